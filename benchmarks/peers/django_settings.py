"""Settings for the three ``django.tasks`` systems of the comparison, one module for all so
that they run the very same tasks (``benchmarks.peers.django_tasks``).

``BENCH_SYSTEM``: ``ours`` (django_solidq), ``djqueue`` (dj-queue) or ``tasksdb``
(django-tasks-db). ``BENCH_DB_VENDOR``: ``postgres`` (``BENCH_DB_NAME``, ``BENCH_PG_*``) or
``sqlite`` (``BENCH_SQLITE_PATH``, with the settings docs/getting-started.md documents).
``BENCH_SOLIDQ`` / ``BENCH_DJQ_OPTIONS`` (JSON): a configuration other than the defaults;
unset, the system runs with exactly its documented defaults.
"""

from __future__ import annotations

import json
import os

from benchmarks._common_settings import *  # noqa: F403
from benchmarks._common_settings import postgres

SYSTEM = os.environ.get("BENCH_SYSTEM", "ours")
APPS = {"ours": "django_solidq", "djqueue": "dj_queue", "tasksdb": "django_tasks_db"}
BACKENDS = {
    "ours": "django_solidq.backend.SolidQueueBackend",
    "djqueue": "dj_queue.backend.DjQueueBackend",
    "tasksdb": "django_tasks_db.DatabaseBackend",
}

INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", APPS[SYSTEM]]
if os.environ.get("BENCH_DB_VENDOR", "postgres") == "sqlite":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ["BENCH_SQLITE_PATH"],
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
else:
    DATABASES = {"default": postgres(os.environ.get("BENCH_DB_NAME", f"solidq_bench_{SYSTEM}"))}

TASKS = {"default": {"BACKEND": BACKENDS[SYSTEM], "QUEUES": []}}
if SYSTEM == "djqueue":
    DATABASE_ROUTERS = ["dj_queue.routers.DjQueueRouter"]
    TASKS["default"]["OPTIONS"] = json.loads(os.environ.get("BENCH_DJQ_OPTIONS", "{}"))
if SYSTEM == "ours" and os.environ.get("BENCH_SOLIDQ"):
    SOLIDQ = json.loads(os.environ["BENCH_SOLIDQ"])
LOGGING["loggers"]["dj_queue"] = {"handlers": ["console"], "level": "WARNING"}  # noqa: F405
