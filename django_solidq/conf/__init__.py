"""The ``SOLIDQ`` setting: one table (``conf.table``) from which its validation
(``conf.validation``), the ``Config`` and the configuration reference (``conf.reference``)
are derived, and the cached accessors.

Keys mirror Solid Queue's ``queue.yml`` (workers, dispatchers) plus the runtime knobs.
Validation returns ``Problem`` rows so that system checks and ``runjobs --check`` report the
same stable IDs.
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from .kinds import MAX_BATCH_SIZE, MAX_PROCESSES, MAX_SECONDS, MAX_THREADS
from .table import (
    DISPATCHER_SETTINGS,
    SETTINGS,
    WORKER_DEFAULTS,
    WORKER_SETTINGS,
    Config,
    DispatcherConfig,
    Setting,
    WorkerConfig,
)
from .validation import Problem, build, validate

__all__ = [
    "DISPATCHER_SETTINGS",
    "MAX_BATCH_SIZE",
    "MAX_PROCESSES",
    "MAX_SECONDS",
    "MAX_THREADS",
    "SETTINGS",
    "WORKER_DEFAULTS",
    "WORKER_SETTINGS",
    "Config",
    "DispatcherConfig",
    "Problem",
    "Setting",
    "WorkerConfig",
    "build",
    "get_config",
    "queue_database",
    "raw_setting",
    "usable_config",
    "validate",
]


def raw_setting() -> Any:
    return getattr(settings, "SOLIDQ", {})


@functools.cache
def get_config() -> Config:
    """The validated configuration; raises ImproperlyConfigured listing every problem."""
    raw = raw_setting()
    problems = validate(raw)
    if problems:
        lines = "\n".join(f"  {p.id}: {p.msg} {p.hint}".rstrip() for p in problems)
        raise ImproperlyConfigured(f"Invalid SOLIDQ setting:\n{lines}")
    return build(raw)


@functools.cache
def usable_config() -> Config:
    """The configuration as far as it is valid: every value its check refuses replaced by its
    default. For what must work while the system checks report a mistake elsewhere in
    ``SOLIDQ``: the queue database of every query, the recurring tasks' own checks."""
    return build(raw_setting())


def queue_database() -> str:
    """The database alias that holds the queue tables (``SOLIDQ['DATABASE']``; an alias
    missing from ``DATABASES`` is the system check E009, and fails the query that uses it)."""
    return usable_config().database


@receiver(setting_changed)
def _reset_config(*, setting: str, **kwargs: Any) -> None:
    if setting in ("SOLIDQ", "DATABASES"):
        get_config.cache_clear()
        usable_config.cache_clear()
