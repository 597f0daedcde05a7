"""django-tasks-db's benchmark settings (run in the peer virtualenv,
benchmarks/.peers-venv by default).
``BENCH_PEER_DB_NAME`` names the database (default ``dtdb_bench``)."""

from __future__ import annotations

import os

from benchmarks._common_settings import *  # noqa: F403
from benchmarks._common_settings import postgres

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django_tasks_db",
]
DATABASES = {"default": postgres(os.environ.get("BENCH_PEER_DB_NAME", "dtdb_bench"))}
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}
