"""django-admin-interface's theme, set up for Mission Control by a post_migrate hook."""

from __future__ import annotations

import warnings

import pytest
from django.test import override_settings
from django.urls import reverse

from django_solidq.admin import theme as mission_theme

pytestmark = pytest.mark.django_db

Theme = pytest.importorskip("admin_interface.models").Theme
LOCALE = "django.middleware.locale.LocaleMiddleware"


def active() -> object:
    return Theme.objects.get(active=True)


def test_migrate_leaves_the_mission_control_theme_active():
    theme = active()
    assert theme.name == "Mission Control"
    assert not theme.env_visible_in_header and not theme.language_chooser_active
    assert theme.title == ""  # the site's own site_header


def test_the_header_has_no_environment_marker_and_no_chooser(admin_client):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Language chooser requires LocaleMiddleware"
        content = admin_client.get(reverse("admin:django_solidq_job_dashboard")).content
    html = content.decode()
    assert "environment-label" not in html
    assert "language-chooser-select-form" not in html
    assert "<title> Dashboard | Django site admin </title>" in " ".join(html.split())


def test_the_chooser_follows_the_locale_middleware(settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, LOCALE]
    mission_theme.configure_theme(using="default")
    assert active().language_chooser_active  # tests.urls has the set_language view
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != LOCALE]
    mission_theme.configure_theme(using="default")
    assert not active().language_chooser_active


def test_a_theme_of_the_sites_own_stays_active():
    Theme.objects.all().delete()  # (admin_interface then creates its default one)
    Theme.objects.filter(name="Django").update(css_header_background_color="#123456")
    mission_theme.configure_theme(using="default")
    assert active().name == "Django"
    assert Theme.objects.get(name="Mission Control").active is False


def test_the_untouched_default_theme_gives_way():
    Theme.objects.all().delete()
    assert active().name == "Django"
    mission_theme.configure_theme(using="default")
    assert active().name == "Mission Control"


def test_an_edited_mission_control_theme_keeps_its_edits():
    theme = active()
    theme.css_header_background_color = "#000000"
    theme.save()
    mission_theme.configure_theme(using="default")
    assert active().css_header_background_color == "#000000"


def test_nothing_happens_without_admin_interface():
    apps = [
        a
        for a in __import__("django.conf").conf.settings.INSTALLED_APPS
        if a not in ("admin_interface", "colorfield")
    ]
    before = list(Theme.objects.values_list("name", "active"))
    with override_settings(INSTALLED_APPS=apps):
        mission_theme.configure_theme(using="default")
    assert list(Theme.objects.values_list("name", "active")) == before
