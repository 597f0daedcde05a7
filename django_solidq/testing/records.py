"""What the assertions compare: one ``EnqueuedJob`` per job, from a row or a TaskResult."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.tasks import Task, TaskResult
from django.tasks.signals import task_enqueued

from django_solidq.models import Job

TaskRef = Task | str
Selector = TaskRef | Iterable[TaskRef] | Callable[[Job], bool]


@dataclass(frozen=True)
class EnqueuedJob:
    """A job as the assertions see it: its task, arguments and options."""

    id: str
    task_path: str
    args: list[Any]
    kwargs: dict[str, Any]
    queue: str
    priority: int
    run_after: datetime | None

    @classmethod
    def of(cls, job: Job | TaskResult | EnqueuedJob) -> EnqueuedJob:
        if isinstance(job, EnqueuedJob):
            return job
        if isinstance(job, TaskResult):
            task = job.task
            return cls(
                job.id, task.module_path, list(job.args), dict(job.kwargs),
                task.queue_name, task.priority, task.run_after,
            )  # fmt: skip
        return cls(
            str(job.pk), job.task_path, job.args, job.kwargs,
            job.queue_name, job.priority, job.scheduled_at,
        )  # fmt: skip

    def __str__(self) -> str:
        call = ", ".join([*map(repr, self.args), *(f"{k}={v!r}" for k, v in self.kwargs.items())])
        when = f", run_after={self.run_after.isoformat()}" if self.run_after else ""
        return f"{self.task_path}({call}) queue={self.queue!r}, priority={self.priority}{when}"


class CapturedJobs(list[EnqueuedJob]):
    """The jobs enqueued inside a ``captured_jobs()`` block, in enqueue order."""


@contextmanager
def captured_jobs() -> Iterator[CapturedJobs]:
    """Collect every job enqueued inside the block (any backend sending ``task_enqueued``)::

    with captured_jobs() as jobs:
        signup(user)
    assert_enqueued(send_welcome_email, args=[user.pk], jobs=jobs)
    """
    jobs = CapturedJobs()

    def receiver(sender: Any, task_result: TaskResult, **kwargs: Any) -> None:
        jobs.append(EnqueuedJob.of(task_result))

    task_enqueued.connect(receiver, weak=False)
    try:
        yield jobs
    finally:
        task_enqueued.disconnect(receiver)


def task_path(task: TaskRef) -> str:
    return task if isinstance(task, str) else task.module_path


def matcher(selector: Selector | None) -> Callable[[Job], bool] | None:
    """``only=`` / ``exclude=``: a task, a dotted task path, several of those, or a callable
    taking the Job row."""
    if selector is None:
        return None
    if isinstance(selector, Task | str):
        selector = [selector]
    if callable(selector):
        return selector
    paths = {task_path(task) for task in selector}
    return lambda job: job.task_path in paths


def wanted(only: Selector | None, exclude: Selector | None) -> Callable[[Job], bool] | None:
    """The ``only`` / ``exclude`` filter as one predicate; None when both are None."""
    if only is None and exclude is None:
        return None
    included, excluded = matcher(only), matcher(exclude)
    return lambda job: (included is None or included(job)) and not (excluded and excluded(job))
