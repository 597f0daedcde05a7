"""django_solidq's benchmark settings. ``BENCH_DB_NAME`` names the database (default
``solidq_bench``); ``BENCH_SOLIDQ`` (JSON) overrides keys of ``SOLIDQ`` per run."""

from __future__ import annotations

import json
import os

from benchmarks._common_settings import *  # noqa: F403
from benchmarks._common_settings import postgres

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django_solidq",
]
DATABASES = {"default": postgres(os.environ.get("BENCH_DB_NAME", "solidq_bench"))}
TASKS = {"default": {"BACKEND": "django_solidq.backend.SolidQueueBackend", "QUEUES": []}}
SOLIDQ = {
    "WORKERS": [{"queues": ["*"], "threads": 3, "processes": 1, "polling_interval": 0.05}],
    "DISPATCHERS": [{"polling_interval": 1, "batch_size": 500}],
    "SHUTDOWN_TIMEOUT": 5,
}
SOLIDQ.update(json.loads(os.environ.get("BENCH_SOLIDQ", "{}")))
