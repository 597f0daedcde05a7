"""Concurrency controls: at most ``to`` jobs per key running at once (Solid Queue's
``limits_concurrency``).

``@task(concurrency=limits_concurrency(key=lambda account_id, **_: account_id, to=1))``: the
key is computed at enqueue and stored on the job. A job takes a permit from its key's
semaphore when it becomes ready (at enqueue if due, at dispatch if scheduled); without a free
permit it waits in blocked executions (``on_conflict="block"``) or is dropped as discarded
(``on_conflict="discard"``). The permit is released when the job's attempt ends (success,
failure, retry scheduling, discard, a lost worker), and the next blocked job of that key —
highest priority first — takes it. Permits expire after ``duration`` so that a permit lost with
its holder cannot block the key forever (the dispatcher's maintenance frees them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from django.db.models import Model

from .conf import get_config


@dataclass(frozen=True)
class ConcurrencyLimit:
    key: str | Callable[..., Any]
    to: int = 1
    duration: timedelta | None = None
    group: str | None = None
    on_conflict: Literal["block", "discard"] = "block"

    def key_for(self, task_path: str, args: Any, kwargs: Any) -> str:
        """``<group>/<key>``; a model instance key becomes ``<group>/<Model>/<pk>``."""
        value = self.key(*args, **kwargs) if callable(self.key) else self.key
        if isinstance(value, Model):
            value = f"{type(value).__name__}/{value.pk}"
        return f"{self.group or task_path}/{value}"

    @property
    def lasts(self) -> timedelta:
        return self.duration or timedelta(seconds=get_config().default_concurrency_duration)


def limits_concurrency(
    key: str | Callable[..., Any],
    to: int = 1,
    duration: timedelta | float | None = None,
    group: str | None = None,
    on_conflict: Literal["block", "discard"] = "block",
) -> ConcurrencyLimit:
    """At most ``to`` jobs with the same key run at once; see the module docs."""
    if not isinstance(to, int) or to < 1:
        raise ValueError(f"limits_concurrency(to=...) must be a positive int, got {to!r}")
    if on_conflict not in ("block", "discard"):
        raise ValueError(f"on_conflict must be 'block' or 'discard', got {on_conflict!r}")
    if isinstance(duration, int | float):
        duration = timedelta(seconds=duration)
    return ConcurrencyLimit(key, to, duration, group, on_conflict)


@dataclass(frozen=True)
class UniqueJobs:
    key: str | Callable[..., Any]
    on_duplicate: Literal["return", "drop"] = "return"
    duration: timedelta = timedelta(days=1)
    group: str | None = None

    def key_for(self, task_path: str, args: Any, kwargs: Any) -> str:
        return ConcurrencyLimit(self.key, group=self.group).key_for(task_path, args, kwargs)


def unique(
    key: str | Callable[..., Any],
    on_duplicate: Literal["return", "drop"] = "return",
    duration: timedelta | float = timedelta(days=1),
    group: str | None = None,
) -> UniqueJobs:
    """At most one live job per key: while one is ready, scheduled, blocked, running or
    retrying, enqueueing another returns it (``on_duplicate="return"``) or drops the new one
    as discarded (``"drop"``). A key is held exactly while a live job has it (see
    ``Semaphore.take_unique``); ``duration`` only dates the key's row."""
    if on_duplicate not in ("return", "drop"):
        raise ValueError(f"on_duplicate must be 'return' or 'drop', got {on_duplicate!r}")
    if isinstance(duration, int | float):
        duration = timedelta(seconds=duration)
    return UniqueJobs(key, on_duplicate, duration, group)


def unique_of(task_path: str) -> UniqueJobs | None:
    """The ``unique`` rule declared on a task, by its path."""
    from django.utils.module_loading import import_string

    try:
        rule = getattr(import_string(task_path), "unique", None)
    except ImportError:
        return None
    return rule if isinstance(rule, UniqueJobs) else None


def limit_of(task_path: str) -> ConcurrencyLimit | None:
    """The concurrency limit declared on a task, by its path (None if none or unimportable)."""
    from django.utils.module_loading import import_string

    try:
        limit = getattr(import_string(task_path), "concurrency", None)
    except ImportError:
        return None
    return limit if isinstance(limit, ConcurrencyLimit) else None
