"""Settings of the demo project (``scripts/demo``). Not for production: DEBUG, fixed key."""

from __future__ import annotations

import os
from pathlib import Path

from testproject.dbconfig import database

BASE_DIR = Path(__file__).resolve().parent.parent  # testproject/

SECRET_KEY = "demo-only-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"

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
    "demo",
]
# No LocaleMiddleware: without it django_solidq's admin theme leaves django-admin-interface's
# language chooser off (it would warn on every page).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "demo_site.urls"
WSGI_APPLICATION = "demo_site.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
X_FRAME_OPTIONS = "SAMEORIGIN"  # django-admin-interface shows related-object popups in frames
SILENCED_SYSTEM_CHECKS = ["security.W019"]

# SOLIDQ_DEMO_DB=postgres|mysql uses the local server's database "solidq_demo" (scripts/demo
# creates it); the default is SQLite in testproject/db.sqlite3.
DATABASES = {
    "default": database(
        os.environ.get("SOLIDQ_DEMO_DB", "sqlite"),
        name="solidq_demo",
        sqlite_path=BASE_DIR / "db.sqlite3",
    )
}

TASKS = {
    "default": {"BACKEND": "django_solidq.backend.SolidQueueBackend", "QUEUES": []},
}
SOLIDQ = {
    "WORKERS": [{"queues": ["*"], "threads": 3, "processes": 1, "polling_interval": 0.2}],
    "DISPATCHERS": [{"polling_interval": 1, "batch_size": 500}],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "django_solidq": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # The demo's own job log (demo.jobs) says the same per job, in the admin's words.
        "django_solidq.jobs": {"handlers": [], "level": "WARNING", "propagate": False},
        "demo": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
