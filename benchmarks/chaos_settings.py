"""Settings of the chaos soak's ``runjobs`` hosts and harness (``benchmarks/chaos.py``).

``CHAOS_VENDOR`` (postgres or mysql), ``CHAOS_PORT`` and ``CHAOS_DB_NAME`` point at the
soak's private server on 127.0.0.1; ``CHAOS_SOLIDQ`` (JSON) overrides ``SOLIDQ`` keys.
"""

from __future__ import annotations

import json
import os
from typing import Any

SECRET_KEY = "chaos-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS: list[str] = []
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django_solidq"]


def _database() -> dict[str, Any]:
    vendor = os.environ.get("CHAOS_VENDOR", "postgres")
    common = {
        "NAME": os.environ.get("CHAOS_DB_NAME", "solidq_chaos"),
        "HOST": "127.0.0.1",
        "PORT": os.environ.get("CHAOS_PORT", "5432"),
        "CONN_MAX_AGE": None,
    }
    if vendor == "postgres":
        return {"ENGINE": "django.db.backends.postgresql", "USER": "postgres", **common}
    return {
        "ENGINE": "django.db.backends.mysql",
        "USER": "root",
        "PASSWORD": "",
        "OPTIONS": {"charset": "utf8mb4", "isolation_level": "read committed"},
        **common,
    }


DATABASES = {"default": _database()}
TASKS = {"default": {"BACKEND": "django_solidq.backend.SolidQueueBackend", "QUEUES": []}}
SOLIDQ: dict[str, Any] = {
    # Two worker processes per host ("two supervisors x two workers").
    "WORKERS": [{"queues": ["*"], "threads": 5, "processes": 2, "polling_interval": 0.1}],
    "DISPATCHERS": [{"polling_interval": 0.2, "batch_size": 500}],
    "RECURRING": {
        "chaos_tick": {"task": "benchmarks.chaos_tasks.tick", "schedule": "every second"}
    },
    "SHUTDOWN_TIMEOUT": 5.0,
    "PROCESS_HEARTBEAT_INTERVAL": 1.0,
    "PROCESS_ALIVE_THRESHOLD": 20.0,  # above the soak's outages (4-15 s): see reliability.md
    # A job may lose its worker several times in a soak that kills one every few seconds.
    "MAX_LOST_ATTEMPTS": 10,
    "CLEAR_FINISHED_JOBS": False,
}
SOLIDQ.update(json.loads(os.environ.get("CHAOS_SOLIDQ", "{}")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "stamped": {"format": "%(asctime)s %(process)d %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "stamped"}},
    "loggers": {"django_solidq": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
