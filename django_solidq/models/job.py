"""Job: one row per enqueued task, whatever state it is in."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q
from django.db.models.base import ModelState
from django.tasks import Task
from django.utils import timezone

from django_solidq.concurrency import limit_of
from django_solidq.conf import queue_database
from django_solidq.errors import error_entry
from django_solidq.exceptions import ConcurrencyLimitReached
from django_solidq.ops import ops_for
from django_solidq.ops.rows import cached_relation, raw_delete
from django_solidq.retries import lost_attempts

from .base import QueueQuerySet, queue_atomic, tables
from .semaphore import Semaphore

if TYPE_CHECKING:
    from django_solidq.models.claimed_execution import ClaimedExecution

# The execution tables' relations to a job: where a job is.
EXECUTIONS = ("readyexecution", "scheduledexecution", "claimedexecution", "blockedexecution",
              "failedexecution")  # fmt: skip


class JobQuerySet(QueueQuerySet["Job"]):
    def enqueue(self, job: Job) -> Job:
        """Store a built job: ready if due, scheduled if ``scheduled_at`` is in the future.

        Returns the job — or, for a unique job that has a live duplicate, that duplicate
        (nothing is stored then)."""
        if not job.limited:
            ops_for(self.db).enqueue(self, job)
            return job
        with queue_atomic():
            if job.unique_key:
                duplicate = Semaphore.objects.take_unique(job)
                if duplicate is not None:
                    return duplicate
            job.save(using=self.db, force_insert=True)
            job.enter(job.scheduled_at)
        return job

    def live(self) -> JobQuerySet:
        """Jobs that have not ended: ready, scheduled, blocked, running or retrying."""
        return self.filter(finished_at=None, failedexecution=None)

    def enqueue_all(self, jobs: Sequence[Job]) -> Sequence[Job]:
        """Store many built jobs in one transaction: plain ones in bulk (on PostgreSQL one
        statement per 10,000), limited ones one by one under their locks, key by key (the lock
        order every transaction follows). Returns the stored jobs, or their live duplicates."""
        plain = [j for j in jobs if not j.limited]
        limited = sorted(
            (j for j in jobs if j.limited),
            key=lambda j: (j.concurrency_key or "", j.unique_key or ""),
        )
        with queue_atomic():
            if plain:
                ops = ops_for(self.db)
                ready, scheduled = tables.ready.objects, tables.scheduled.objects
                ops.enqueue_all(self, ready, scheduled, plain, timezone.now())
            stored = {j.pk: self.enqueue(j) for j in limited}
        return [stored.get(j.pk, j) for j in jobs]

    @staticmethod
    def build(
        task: Task, args: list[Any], kwargs: dict[str, Any], job_id: uuid.UUID | None = None
    ) -> Job:
        """A job for this call, not yet stored.

        Every column's value written out, set straight on a new instance: Django's keyword
        path looks up each field's default and costs about three times as much as positional
        values, and ``Model.__init__`` itself (per-field ``setattr`` and the ``pre_init`` /
        ``post_init`` signals, which no app hooks on a queue row) as much again — which a bulk
        enqueue pays once per job. ``test_build_matches_the_model_defaults`` keeps the
        values here equal to the model's defaults. A static method: ``JobQuerySet.build``
        spares the queryset a manager call makes."""
        values = {
            "id": job_id or uuid.uuid4(),
            "backend": task.backend,
            "task_path": task.module_path,
            "queue_name": task.queue_name,
            "priority": task.priority,
            "args": args,
            "kwargs": kwargs,
            "scheduled_at": task.run_after,
            "enqueued_at": timezone.now(),
            "errors": [],
            "worker_ids": [],
            "exception_executions": {},
        }
        job = Job.__new__(Job)
        job.__dict__.update(dict.fromkeys(_job_columns()), **values)
        job._state = ModelState()
        return job

    def finished(self) -> JobQuerySet:
        return self.filter(finished_at__isnull=False)

    def clear_finished(self, finished_before: datetime, batch_size: int = 500) -> int:
        """Delete these jobs that ended before ``finished_before``, ``batch_size`` at a time.

        Each batch is its own short transaction on the ``finished_at`` index, so workers keep
        claiming and finishing while a large backlog is cleared. Returns how many were deleted.
        """
        old = self.finished().filter(finished_at__lt=finished_before)
        deleted = 0
        while True:
            ids = list(old.order_by("finished_at").values_list("id", flat=True)[:batch_size])
            if not ids:
                return deleted
            with queue_atomic():
                batch = Job.objects.filter(id__in=ids, finished_at__isnull=False)
                deleted += raw_delete(batch)

    def with_executions(self) -> JobQuerySet:
        """Join every execution table, so a job's state reads in one query."""
        return self.select_related(*EXECUTIONS)


@functools.cache
def _job_columns() -> tuple[str, ...]:
    """Job's columns in the order ``Job(*values)`` takes them."""
    return tuple(field.attname for field in Job._meta.concrete_fields)


JobManager = models.Manager.from_queryset(JobQuerySet)


class Job(models.Model):
    """A logical task: its call, its options and everything its attempts produced.

    Where the job *is* (ready, scheduled, claimed, blocked, failed) is the execution row that
    points at it; a job with none of them has ended (``finished_at`` set).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    backend = models.CharField(max_length=64, default="default")
    task_path = models.CharField(max_length=255)
    queue_name = models.CharField(max_length=128, default="default")
    priority = models.SmallIntegerField(default=0)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    # NULL: not concurrency-limited (a real key may be any string, even empty).
    concurrency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    # NULL: not unique. Else at most one live (not ended) job per key: see tasks' ``unique``.
    unique_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    scheduled_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    last_attempted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    discarded_at = models.DateTimeField(null=True, blank=True)
    return_value = models.JSONField(null=True, blank=True)
    # One entry per failed attempt: {"exception_class_path", "traceback", "at", "worker_id"}.
    errors = models.JSONField(default=list)
    # One entry per finished attempt (success, failure or loss), the worker's name.
    worker_ids = models.JSONField(default=list)
    # Active Job's per-rule retry counters: {rule key: executions that matched it}.
    exception_executions = models.JSONField(default=dict)

    objects = JobManager()

    class Meta:
        db_table = "solidq_jobs"
        # The admin's job actions (django_solidq.admin); viewing needs the usual view
        # permissions. Pausing a queue is Pause's.
        permissions = [
            ("retry_job", "Can retry failed jobs"),
            ("discard_job", "Can discard jobs and clear queues"),
            ("run_job_now", "Can run scheduled jobs now"),
        ]
        indexes = [
            # Finished and discarded lists, retention, and the dashboard's throughput (an
            # index-only count of successes per minute: discarded_at is in the index).
            models.Index(fields=["finished_at", "discarded_at"], name="solidq_job_finished"),
            models.Index(fields=["queue_name", "finished_at"], name="solidq_job_queue_finished"),
            models.Index(fields=["task_path", "finished_at"], name="solidq_job_task_finished"),
            models.Index(fields=["enqueued_at"], name="solidq_job_enqueued"),
            models.Index(fields=["concurrency_key"], name="solidq_job_concurrency_key"),
            models.Index(fields=["unique_key", "finished_at"], name="solidq_job_unique_key"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(priority__gte=-100) & Q(priority__lte=100),
                name="solidq_job_priority_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_path} {self.id}"

    def execution(self, name: str) -> Any:
        """The ``name`` execution row if it was loaded with the job (``with_executions``),
        else None: this never queries."""
        return cached_relation(self, name)

    @property
    def claimed(self) -> ClaimedExecution | None:
        claimed: ClaimedExecution | None = self.execution("claimedexecution")
        return claimed

    def next_run_at(self) -> datetime | None:
        """When the job runs next if it waits for a time (its first run, or a retry's);
        else when it was due. ``scheduled_at`` keeps the time it was first due."""
        scheduled = self.execution("scheduledexecution")
        return scheduled.scheduled_at if scheduled is not None else self.scheduled_at

    def is_due(self, now: datetime | None = None) -> bool:
        return self.scheduled_at is None or self.scheduled_at <= (now or timezone.now())

    def lost_attempts(self) -> int:
        """How many attempts were lost with their worker (the poison-pill count)."""
        return lost_attempts(self.errors)

    def record_attempt(self, worker_id: str, attempted_at: datetime) -> None:
        self.worker_ids = [*self.worker_ids, worker_id]
        self.last_attempted_at = attempted_at
        self.started_at = self.started_at or attempted_at

    def record_error(self, error: dict[str, Any]) -> None:
        self.errors = [*self.errors, error]

    # Columns a new job without a unique key never fills: bulk inserts leave them out.
    EMPTY_WHEN_NEW = frozenset({
        "unique_key", "started_at", "last_attempted_at", "finished_at", "discarded_at",
        "return_value",
    })  # fmt: skip

    def enter(self, run_at: datetime | None, holding_permit: bool = False) -> str:
        """Place the job where it can run; returns where it went.

        Scheduled if ``run_at`` is in the future. Otherwise ready — unless the task limits
        concurrency and no permit is free (and the job holds none): then blocked, or discarded
        with ``on_conflict="discard"``. Call inside a queue transaction.
        """
        if run_at is not None and run_at > timezone.now():
            self.scheduledexecution = tables.scheduled.objects.create(
                job=self, queue_name=self.queue_name, priority=self.priority, scheduled_at=run_at
            )
            return "scheduled"
        limit = None if holding_permit or not self.concurrency_key else limit_of(self.task_path)
        if limit is not None and self.concurrency_key:
            if not Semaphore.objects.wait(self.concurrency_key, limit.to, limit.lasts):
                if limit.on_conflict == "discard":
                    self.discard_for_concurrency()
                    return "discarded"
                tables.blocked.objects.block(self, limit.lasts)
                return "blocked"
        tables.ready.objects.add([(self.pk, self.queue_name, self.priority)])
        return "ready"

    @property
    def limited(self) -> bool:
        """Has a concurrency key or a unique key: enqueued one by one, under locks."""
        return bool(self.concurrency_key or self.unique_key)

    def discard_for_concurrency(self) -> None:
        message = f"another job holds the concurrency key {self.concurrency_key!r}"
        self.record_error(error_entry(ConcurrencyLimitReached, message, worker_id=""))
        self.finished_at = self.discarded_at = timezone.now()
        self.save(using=queue_database(), update_fields=["errors", "finished_at", "discarded_at"])
        Semaphore.objects.release_for([self], unique=True, permit=False)
