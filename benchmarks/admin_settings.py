"""Settings of ``benchmarks/admin_pages.py``: ``benchmarks.settings`` (PostgreSQL, the database
named by ``BENCH_DB_NAME``) plus the Django admin with django-admin-interface, as in
``tests/settings.py``. This module is also the URLconf: ``/admin/`` only."""

from __future__ import annotations

from typing import Any

from benchmarks.settings import *  # noqa: F403

INSTALLED_APPS = [
    "admin_interface",
    "colorfield",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_solidq",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "benchmarks.admin_settings"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "/static/"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
X_FRAME_OPTIONS = "SAMEORIGIN"
# The benchmark's processes are not running: no worker needs the configured queues.
SOLIDQ = {**SOLIDQ, "WORKERS": [{"queues": ["default", "mail"], "threads": 3}]}  # noqa: F405


def __getattr__(name: str) -> Any:
    """``urlpatterns``, built on first use (the admin can only be imported once Django is set
    up, after this module was read as settings)."""
    if name == "urlpatterns":
        from django.contrib import admin
        from django.urls import path

        return [path("admin/", admin.site.urls)]
    raise AttributeError(name)
