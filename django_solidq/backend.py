"""SolidQueueBackend: the ``django.tasks`` backend that stores tasks in the queue tables."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.apps import apps
from django.core import checks
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.tasks import Task, TaskResult, TaskResultStatus, task_backends
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
from django.tasks.signals import task_enqueued
from django.utils import timezone

from . import joblog, signals, verified
from .arguments import normalize_arguments
from .conf import queue_database
from .errors import error_entry
from .exceptions import ConcurrencyLimitReached, DuplicateJob
from .models import Job, Process
from .models.job import JobQuerySet
from .results import new_result, to_result
from .tasks import SolidTask, TaskCall

SUPPORTED_VENDORS = ("postgresql", "mysql", "sqlite")
MAX_QUEUE_NAME = 128  # Job.queue_name's column
UNPRINTABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
# MariaDB's DATETIME holds years 1000 to 9999 (and PostgreSQL and SQLite hold more).
EARLIEST_RUN_AFTER = datetime(1000, 1, 2, tzinfo=UTC)
LATEST_RUN_AFTER = datetime(9999, 12, 30, tzinfo=UTC)
KNOWN_OPTIONS: frozenset[str] = frozenset()


class SolidQueueBackend(BaseTaskBackend):
    """Stores tasks as jobs in the database; ``manage.py runjobs`` runs them."""

    task_class = SolidTask
    supports_defer = True
    supports_priority = True
    supports_get_result = True
    supports_async_task = True

    def validate_task(self, task: Task) -> None:
        """Django's checks, after ours of the values Django assumes the types of: the queue
        name, the priority and ``run_after`` (each refused with ``InvalidTask`` naming it,
        before anything is written)."""
        problem = _queue_problem(task.queue_name) or _priority_problem(task.priority)
        problem = problem or _run_after_problem(task.run_after)
        if problem:
            raise InvalidTask(f"{task.module_path}: {problem}")
        super().validate_task(task)

    def prepare(
        self,
        task: Task,
        args: Sequence[Any],
        kwargs: dict[str, Any],
        validated: dict[int, Task] | None = None,
    ) -> tuple[Job, Task]:
        """Validate a call and build its job (not stored): the task as it will be enqueued
        (``queue_as`` applied) and its arguments checked to be JSON. ``validated`` (tasks
        already validated, by ``id``, kept alive by the dict) spares a bulk enqueue
        validating the same task once per call."""
        task = _with_dynamic_queue(task, args, kwargs)
        if validated is None or validated.get(id(task)) is not task:
            self.validate_task(task)
            if validated is not None:
                validated[id(task)] = task
        stored_args, stored_kwargs = normalize_arguments(task.module_path, args, kwargs)
        job = JobQuerySet.build(task, stored_args, stored_kwargs)
        limit = getattr(task, "concurrency", None)
        if limit is not None:
            job.concurrency_key = limit.key_for(task.module_path, args, kwargs)
        rule = getattr(task, "unique", None)
        if rule is not None:
            job.unique_key = rule.key_for(task.module_path, args, kwargs)
        return job, task

    def enqueue(self, task: Task, args: Sequence[Any], kwargs: dict[str, Any]) -> TaskResult:
        job, task = self.prepare(task, args, kwargs)
        return self._enqueued(job, task, verified.enqueue(job))

    def enqueue_all(self, calls: Sequence[TaskCall]) -> list[TaskResult]:
        """Enqueue many tasks of this backend in a few round trips."""
        validated: dict[int, Task] = {}
        prepared = [self.prepare(task, args, kwargs, validated) for task, args, kwargs in calls]
        stored = verified.enqueue_all([job for job, _ in prepared])
        joblog.enqueued_many(len(prepared), self.alias)
        return [
            self._enqueued(job, task, s, log=False)
            for (job, task), s in zip(prepared, stored, strict=True)
        ]

    def enqueue_on_commit(
        self, task: Task, args: Sequence[Any], kwargs: dict[str, Any], using: str
    ) -> TaskResult:
        """Enqueue when the current transaction on ``using`` commits (nothing if it rolls
        back). The result, READY, already has the job's id; errors in the call raise now."""
        job, task = self.prepare(task, args, kwargs)

        def store() -> None:
            verified.enqueue(job)
            self._enqueued(job, task)

        transaction.on_commit(store, using=using)
        return new_result(job, task, TaskResultStatus.READY)

    def _enqueued(
        self, job: Job, task: Task, stored: Job | None = None, log: bool = True
    ) -> TaskResult:
        if stored is not None and stored.pk != job.pk:
            return self._duplicate(job, task, stored)
        if job.discarded_at is not None:  # limits_concurrency(on_conflict="discard")
            result = new_result(job, task, TaskResultStatus.FAILED)
            signals.task_discarded.send(
                type(self), task_result=result, exception=ConcurrencyLimitReached()
            )
            return result
        result = new_result(job, task, TaskResultStatus.READY)
        if log:
            joblog.enqueued(job)
        task_enqueued.send(type(self), task_result=result)
        return result

    def _duplicate(self, job: Job, task: Task, existing: Job) -> TaskResult:
        """A unique job's enqueue met a live job with its key: return that one, or store the
        new one as discarded (``on_duplicate="drop"``) so the drop is visible."""
        rule = getattr(task, "unique", None)
        if rule is not None and rule.on_duplicate == "drop":
            job.finished_at = job.discarded_at = timezone.now()
            job.record_error(
                error_entry(DuplicateJob, f"job {existing.pk} has the same unique key", "")
            )
            job.save(using=queue_database(), force_insert=True)
            result = to_result(job, task, status=TaskResultStatus.FAILED)
            signals.task_discarded.send(type(self), task_result=result, exception=DuplicateJob())
            return result
        return self.get_result(str(existing.pk))

    def get_result(self, result_id: str) -> TaskResult:
        try:
            job_id = uuid.UUID(str(result_id))
            job = Job.objects.with_executions().filter(backend=self.alias).get(id=job_id)
        except (ValueError, Job.DoesNotExist) as exc:
            raise TaskResultDoesNotExist(result_id) from exc
        running_worker = None
        if job.claimed is not None and job.claimed.process_id is not None:
            names = Process.objects.filter(id=job.claimed.process_id).values_list("name", flat=True)
            running_worker = names.first()
        return to_result(job, running_worker=running_worker)

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        return [*super().check(**kwargs), *self._problems()]

    def _problems(self) -> Iterable[checks.CheckMessage]:
        if not apps.is_installed("django_solidq"):
            yield checks.Error(
                f"Task backend {self.alias!r} is SolidQueueBackend but django_solidq is not "
                "installed.",
                hint="Add 'django_solidq' to INSTALLED_APPS and run migrate.",
                id="django_solidq.E011",
            )
        if queue_database() not in connections.settings:
            return  # E009 says so (checks.check_settings)
        vendor = connections[queue_database()].vendor
        if vendor not in SUPPORTED_VENDORS:
            yield checks.Error(
                f"The queue database {queue_database()!r} is {vendor}, which django_solidq does "
                "not support.",
                hint="Use PostgreSQL, MariaDB >= 10.6 / MySQL >= 8 or SQLite.",
                id="django_solidq.E010",
            )
        for key in self.options:
            if key not in KNOWN_OPTIONS:
                yield checks.Error(
                    f"Unknown key {key!r} in TASKS[{self.alias!r}]['OPTIONS'].",
                    hint="SolidQueueBackend takes no OPTIONS; configure it with the SOLIDQ "
                    "setting.",
                    id="django_solidq.E012",
                )


def _queue_problem(name: Any) -> str | None:
    if (
        isinstance(name, str)
        and 0 < len(name) <= MAX_QUEUE_NAME
        and name == name.strip()
        and not UNPRINTABLE.search(name)
    ):
        return None
    return (
        f"the queue name must be a string of 1 to {MAX_QUEUE_NAME} characters without "
        f"control characters or surrounding spaces, got {name!r:.60}."
    )


def _priority_problem(priority: Any) -> str | None:
    if isinstance(priority, int | float) and not isinstance(priority, bool):
        if math.isfinite(priority):
            return None  # Django checks the range and that it is whole
    return f"priority must be a whole number between -100 and 100, got {priority!r:.60}."


def _run_after_problem(run_after: Any) -> str | None:
    if run_after is None:
        return None
    if not isinstance(run_after, datetime):
        return (
            "run_after must be an aware datetime (or a timedelta given to using()), got "
            f"{run_after!r:.60}."
        )
    if timezone.is_naive(run_after):
        return None  # Django says whether a naive one is allowed (USE_TZ)
    try:
        in_range = EARLIEST_RUN_AFTER <= run_after <= LATEST_RUN_AFTER
    except OverflowError:
        in_range = False
    if in_range:
        return None
    return (
        f"run_after must be between {EARLIEST_RUN_AFTER:%Y-%m-%d} and "
        f"{LATEST_RUN_AFTER:%Y-%m-%d} (UTC), got {run_after!r:.60}."
    )


def _with_dynamic_queue(task: Task, args: Sequence[Any], kwargs: dict[str, Any]) -> Task:
    queue_as = getattr(task, "queue_as", None)
    if queue_as is None:
        return task
    queue_name = queue_as(*args, **kwargs)
    if not isinstance(queue_name, str) or not queue_name:
        raise InvalidTask(
            f"queue_as of {task.module_path} returned {queue_name!r}; it must return a queue name."
        )
    return task.using(queue_name=queue_name)


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> TaskResult:
    """``task.enqueue(*args, **kwargs)`` once the current transaction on the default database
    commits — for jobs that read what the transaction writes. See ``SolidTask.enqueue_on_commit``
    to name another database."""
    if not isinstance(task, SolidTask):
        raise InvalidTask(f"{task.module_path} is not a task of SolidQueueBackend.")
    return task.enqueue_on_commit_of(DEFAULT_DB_ALIAS, *args, **kwargs)


def enqueue_all(
    calls: Iterable[TaskCall | tuple[Task, Sequence[Any], dict[str, Any]]],
) -> list[TaskResult]:
    """Enqueue many tasks at once: ``enqueue_all([send.bind(user_id) for user_id in ids])``.

    Tasks are grouped by backend; each SolidQueueBackend stores its group in one
    transaction with a few multi-row inserts. Results come back in the order given.
    """
    by_backend: dict[str, list[tuple[int, TaskCall]]] = {}
    for index, (task, args, kwargs) in enumerate(calls):
        by_backend.setdefault(task.backend, []).append(
            (index, TaskCall(task, tuple(args), dict(kwargs)))
        )
    results: dict[int, TaskResult] = {}
    for alias, group in by_backend.items():
        backend = task_backends[alias]
        if isinstance(backend, SolidQueueBackend):
            done = backend.enqueue_all([call for _, call in group])
        else:
            done = [backend.enqueue(call.task, list(call.args), call.kwargs) for _, call in group]
        results.update(zip([index for index, _ in group], done, strict=True))
    return [results[index] for index in sorted(results)]
