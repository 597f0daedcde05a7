"""django_solidq on one SQLite file (WAL), for ``benchmarks/sqlite_drain.py``.

``BENCH_SQLITE_PATH`` names the file; ``BENCH_SOLIDQ`` (JSON) overrides ``SOLIDQ`` keys;
``BENCH_SQLITE_OPTIONS`` (JSON) overrides the connection ``OPTIONS``. The options are the
ones docs/getting-started.md recommends."""

from __future__ import annotations

import json
import os

from benchmarks._common_settings import *  # noqa: F403

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django_solidq",
]
OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
OPTIONS.update(json.loads(os.environ.get("BENCH_SQLITE_OPTIONS", "{}")))
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BENCH_SQLITE_PATH", "/tmp/solidq_bench.sqlite3"),
        "OPTIONS": OPTIONS,
    }
}
TASKS = {"default": {"BACKEND": "django_solidq.backend.SolidQueueBackend", "QUEUES": []}}
SOLIDQ = {
    "WORKERS": [{"queues": ["*"], "processes": 2}],
    "DISPATCHERS": [{"polling_interval": 1, "batch_size": 500}],
    "SHUTDOWN_TIMEOUT": 5,
}
SOLIDQ.update(json.loads(os.environ.get("BENCH_SOLIDQ", "{}")))
