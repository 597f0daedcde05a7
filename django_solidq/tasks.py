"""The backend's ``task_class``: Django's Task plus per-enqueue conveniences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db import DEFAULT_DB_ALIAS
from django.tasks import Task, TaskResult
from django.tasks.exceptions import InvalidTask
from django.utils import timezone

from .concurrency import ConcurrencyLimit, UniqueJobs
from .retries import DiscardRule, RetryRule, as_discard_rules


class TaskCall(NamedTuple):
    """A task bound to its arguments, ready for ``enqueue_all``."""

    task: Task
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class SolidTask(Task):
    """A Django Task with Solid Queue's job options; ``using()`` also takes a ``timedelta``.

    Extra ``@task(...)`` options (Django passes them to the backend's ``task_class``):

    * ``retry_on=[retry_on(Exc, wait=..., attempts=...)]`` — retry rules (see ``retries``);
    * ``discard_on=[Exc, discard_on(Other, on_discard=...)]`` — end without retrying;
    * ``queue_as=lambda *args, **kwargs: "name"`` — choose the queue from the arguments at
      enqueue (Active Job's ``queue_as do … end``); ``using(queue_name=…)`` overrides it;
    * ``concurrency=limits_concurrency(key=..., to=1, ...)`` — at most ``to`` jobs per key run at
      once (see ``django_solidq.concurrency``);
    * ``unique=unique(key=...)`` — at most one live job per key (duplicates return it);
    * ``timeout`` — seconds (or a timedelta) an attempt may run before ``JobTimeout`` is raised
      in it; default ``SOLIDQ['DEFAULT_TIMEOUT']`` (none);
    * ``before`` / ``after`` / ``around`` — lists of hooks run around each attempt (see
      ``runtime.middleware``);
    * ``max_lost_attempts`` — how many times a job may lose its worker (killed, crashed) and
      be re-run before it is failed; default ``SOLIDQ['MAX_LOST_ATTEMPTS']``.
    """

    retry_on: Sequence[RetryRule] = ()
    discard_on: Sequence[DiscardRule | type[BaseException]] = ()
    max_lost_attempts: int | None = None
    queue_as: Callable[..., str] | None = None
    concurrency: ConcurrencyLimit | None = None
    unique: UniqueJobs | None = None
    timeout: float | timedelta | None = None
    before: Sequence[Callable[[TaskResult], Any]] = ()
    after: Sequence[Callable[[TaskResult, Any], Any]] = ()
    around: Sequence[Callable[[TaskResult, Callable[[], Any]], Any]] = ()

    def __post_init__(self) -> None:
        retry_rules = tuple(self.retry_on)
        for rule in retry_rules:
            if not isinstance(rule, RetryRule):
                raise InvalidTask(
                    f"retry_on of {self.func.__qualname__} takes retry_on(...) rules, got {rule!r}."
                )
        object.__setattr__(self, "retry_on", retry_rules)
        for hooks in ("before", "after", "around"):
            object.__setattr__(self, hooks, tuple(getattr(self, hooks)))
        timeout = self.timeout
        if isinstance(timeout, timedelta):
            timeout = timeout.total_seconds()
            object.__setattr__(self, "timeout", timeout)
        if timeout is not None and not timeout > 0:
            raise InvalidTask(f"timeout of {self.func.__qualname__} must be positive.")
        object.__setattr__(self, "discard_on", as_discard_rules(self.discard_on))
        Task.__post_init__(self)

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
        changes: dict[str, Any] = {}
        if priority is not None:
            changes["priority"] = priority
        if queue_name is not None:
            changes.update(queue_name=queue_name, queue_as=None)
        if run_after is not None:
            changes["run_after"] = run_after
        if backend is not None:
            changes["backend"] = backend
        return replace(self, **changes)

    def enqueue_on_commit(self, *args: Any, **kwargs: Any) -> TaskResult:
        """Enqueue once the current transaction on the default database commits."""
        return self.enqueue_on_commit_of(DEFAULT_DB_ALIAS, *args, **kwargs)

    def enqueue_on_commit_of(self, using: str, *args: Any, **kwargs: Any) -> TaskResult:
        """Enqueue once the current transaction on database ``using`` commits."""
        backend = self.get_backend()
        if not hasattr(backend, "enqueue_on_commit"):
            raise InvalidTask(f"Backend {self.backend!r} cannot enqueue on commit.")
        result: TaskResult = backend.enqueue_on_commit(self, args, kwargs, using=using)
        return result

    def bind(self, *args: Any, **kwargs: Any) -> TaskCall:
        """This task with its arguments, for ``django_solidq.enqueue_all``."""
        return TaskCall(self, args, kwargs)
