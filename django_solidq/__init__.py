"""django_solidq: database-backed background jobs for Django's Tasks framework.

The public API is re-exported here lazily, so ``import django_solidq`` works before Django's
app registry is ready (e.g. in settings).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0.dev0"

_EXPORTS = {
    "retry_on": "django_solidq.retries",
    "discard_on": "django_solidq.retries",
    "polynomially_longer": "django_solidq.retries",
    "exponentially_longer": "django_solidq.retries",
    "SolidQueueBackend": "django_solidq.backend",
    "enqueue_all": "django_solidq.backend",
    "limits_concurrency": "django_solidq.concurrency",
    "unique": "django_solidq.concurrency",
    "DuplicateJob": "django_solidq.exceptions",
    "ConcurrencyLimitReached": "django_solidq.exceptions",
    "pk_of": "django_solidq.arguments",
    "enqueue_on_commit": "django_solidq.backend",
    "SolidTask": "django_solidq.tasks",
    "schedule_recurring_task": "django_solidq.recurring",
    "unschedule_recurring_task": "django_solidq.recurring",
    "TaskCall": "django_solidq.tasks",
    "ArgumentNotSerializable": "django_solidq.exceptions",
    "JobTimeout": "django_solidq.exceptions",
    "ProcessExitError": "django_solidq.exceptions",
    "ProcessMissingError": "django_solidq.exceptions",
    "ProcessPrunedError": "django_solidq.exceptions",
    "TaskImportError": "django_solidq.exceptions",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'django_solidq' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
