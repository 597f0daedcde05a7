"""The backend's ``task_class``: Django's Task plus per-enqueue conveniences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.tasks import Task
from django.utils import timezone


class TaskCall(NamedTuple):
    """A task bound to its arguments, ready for ``enqueue_all``."""

    task: Task
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class SolidTask(Task):
    """A Django Task whose ``using()`` also takes a ``timedelta`` for ``run_after``.

    Extra ``@task(...)`` options (Django passes them to the backend's ``task_class``):
    ``max_lost_attempts`` — how many times a job may lose its worker (killed, crashed) and be
    re-run before it is failed; default ``SOLIDQ['MAX_LOST_ATTEMPTS']``.
    """

    max_lost_attempts: int | None = None

    def using(
        self,
        *,
        priority: int | None = None,
        queue_name: str | None = None,
        run_after: datetime | timedelta | None = None,
        backend: str | None = None,
    ) -> SolidTask:
        """A copy with other defaults; ``run_after=timedelta(...)`` means that long from now."""
        if isinstance(run_after, timedelta):
            run_after = timezone.now() + run_after
        copy: Task = Task.using(
            self, priority=priority, queue_name=queue_name, run_after=run_after, backend=backend
        )
        assert isinstance(copy, SolidTask)
        return copy

    def bind(self, *args: Any, **kwargs: Any) -> TaskCall:
        """This task with its arguments, for ``django_solidq.enqueue_all``."""
        return TaskCall(self, args, kwargs)
