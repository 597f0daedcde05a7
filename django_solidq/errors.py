"""How an attempt's error is stored on a job (the shape of ``Job.errors`` entries)."""

from __future__ import annotations

import traceback
from typing import Any

from django.utils import timezone


def class_path(cls: type[BaseException]) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def exception_entry(exc: BaseException, worker_id: str) -> dict[str, Any]:
    """One failed attempt: the exception's class path and its full traceback."""
    return {
        "exception_class_path": class_path(type(exc)),
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(exc)),
        "at": timezone.now().isoformat(),
        "worker_id": worker_id,
    }


def error_entry(cls: type[BaseException], message: str, worker_id: str) -> dict[str, Any]:
    """An attempt that ended without a Python exception of its own (a lost worker)."""
    return {
        "exception_class_path": class_path(cls),
        "message": message,
        "traceback": f"{class_path(cls)}: {message}\n",
        "at": timezone.now().isoformat(),
        "worker_id": worker_id,
    }
