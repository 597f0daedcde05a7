"""Test settings. ``SOLIDQ_TEST_DB`` picks the database: sqlite (default), postgres or mysql.

Process tests start ``runjobs`` subprocesses with these settings; they read the test
database's name from ``SOLIDQ_TEST_DB_NAME`` (set by the test harness) so both sides share it.
"""

from __future__ import annotations

import os
from pathlib import Path

from testproject.dbconfig import database

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["*"]

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
    "tests.app",
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
]
ROOT_URLCONF = "tests.urls"
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
X_FRAME_OPTIONS = "SAMEORIGIN"

_vendor = os.environ.get("SOLIDQ_TEST_DB", "sqlite")
DATABASES = {
    "default": database(
        _vendor,
        # Several checkouts testing at once on one server each set their own name.
        name=os.environ.get("SOLIDQ_TEST_NAME", "solidq"),
        sqlite_path=Path(os.environ.get("SOLIDQ_TEST_SQLITE_DIR", BASE_DIR))
        / "solidq-test.sqlite3",
    )
}
# SOLIDQ_TEST_QUEUE_DB=1: the queue tables live in a second database, alias "queue".
QUEUE_DB = bool(os.environ.get("SOLIDQ_TEST_QUEUE_DB"))
if QUEUE_DB:
    DATABASES["queue"] = database(
        _vendor,
        name=os.environ.get("SOLIDQ_TEST_NAME", "solidq") + "_queue",
        sqlite_path=Path(os.environ.get("SOLIDQ_TEST_SQLITE_DIR", BASE_DIR))
        / "solidq-queue-test.sqlite3",
    )
    DATABASE_ROUTERS = ["django_solidq.routers.QueueRouter"]
for _alias in DATABASES:
    # A runjobs subprocess started by a test: use the test databases as they are.
    if os.environ.get(f"SOLIDQ_TEST_DB_NAME_{_alias.upper()}"):
        DATABASES[_alias]["NAME"] = os.environ[f"SOLIDQ_TEST_DB_NAME_{_alias.upper()}"]

TASKS = {
    "default": {"BACKEND": "django_solidq.backend.SolidQueueBackend", "QUEUES": []},
}
SOLIDQ = {
    "DATABASE": "queue" if QUEUE_DB else "default",
    "WORKERS": [{"queues": ["*"], "threads": 3, "polling_interval": 0.05}],
    "DISPATCHERS": [{"polling_interval": 0.05, "batch_size": 100}],
    "SHUTDOWN_TIMEOUT": float(os.environ.get("SOLIDQ_SHUTDOWN_TIMEOUT", "3")),
    "PROCESS_HEARTBEAT_INTERVAL": 0.5,
    "PROCESS_ALIVE_THRESHOLD": 5.0,
}
if os.environ.get("SOLIDQ_TEST_CONFIG"):
    # Process tests pass per-test SOLIDQ overrides to their runjobs subprocess as JSON.
    import json

    SOLIDQ.update(json.loads(os.environ["SOLIDQ_TEST_CONFIG"]))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_solidq": {"handlers": ["console"], "level": "INFO"}},
}
