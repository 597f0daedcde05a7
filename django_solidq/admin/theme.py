"""django-admin-interface's theme, configured for Mission Control.

After every ``migrate`` (``post_migrate``), when ``admin_interface`` is installed, the theme
named "Mission Control" is created, or kept in step, and made the active one unless the site
already chose a theme of its own. Why a ``post_migrate`` hook and not a data migration:

* our migrations cannot depend on ``admin_interface``'s (it is optional: the stock admin works
  too), so a data migration could run before its table exists, and would make our migration
  graph differ by project;
* the chooser depends on settings (``LocaleMiddleware``), which change without a migration;
  the hook reads them at each ``migrate``;
* the hook runs after all migrations, for every database ``migrate`` is run on, and again
  when tests flush a database.

What it sets: no environment marker (with no environment named, the theme shows a bare "● -"
before "Welcome"), the language chooser only where it works (``LocaleMiddleware`` and the
``set_language`` view; elsewhere it warns on every page), the site's own ``site_header`` as
the title, and a pagination bar that does not float over the filters.
"""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connections, router, transaction
from django.urls import NoReverseMatch, reverse

logger = logging.getLogger("django_solidq")

NAME = "Mission Control"
# Set when the theme is created; the site may change them afterwards in the admin.
INITIAL: dict[str, Any] = {
    "title": "",  # empty: the admin site's own site_header
    "env_name": "",
    "env_visible_in_header": False,
    "env_visible_in_favicon": False,
    "form_pagination_sticky": False,
    "list_filter_dropdown": True,
}


def language_chooser_works() -> bool:
    """What django-admin-interface's chooser needs, or it warns on every admin page."""
    if "django.middleware.locale.LocaleMiddleware" not in settings.MIDDLEWARE:
        return False
    if not settings.USE_I18N or len(settings.LANGUAGES) < 2:
        return False
    try:
        reverse("set_language")
    except NoReverseMatch:
        return False
    return True


def configure_theme(using: str = "default", **kwargs: Any) -> None:
    """The ``post_migrate`` receiver: create or update the Mission Control theme."""
    if not apps.is_installed("admin_interface"):
        return
    theme_model = apps.get_model("admin_interface", "Theme")
    if not router.allow_migrate_model(using, theme_model):
        return
    connection = connections[using]
    if theme_model._meta.db_table not in connection.introspection.table_names():
        return  # ``migrate`` of another app only: admin_interface is not migrated yet
    try:
        with transaction.atomic(using=using):
            apply_theme(theme_model, using)
    except DatabaseError as exc:  # an older admin_interface schema: leave the theme alone
        logger.warning("Mission Control could not configure the admin theme: %s", exc)


def apply_theme(theme_model: Any, using: str) -> None:
    themes = theme_model.objects.using(using)
    theme = themes.filter(name=NAME).first()
    if theme is None:
        # Active unless the site has a theme of its own (any but an untouched default).
        own = any(not untouched(row) for row in themes.all())
        theme = theme_model(name=NAME, active=not own, **INITIAL)
    changed = theme.pk is None
    chooser = language_chooser_works()
    if theme.language_chooser_active != chooser:
        theme.language_chooser_active, changed = chooser, True
    if not theme.env_name and theme.env_visible_in_header:
        theme.env_visible_in_header, changed = False, True
    if changed:
        theme.save(using=using)


def untouched(theme: Any) -> bool:
    """The theme django-admin-interface creates by itself, as it made it."""
    for field in theme._meta.concrete_fields:
        if field.primary_key or field.name in ("name", "active"):
            continue
        if str(getattr(theme, field.attname)) != str(field.get_default()):
            return False
    return theme.name == "Django"
