"""ScheduledExecution: jobs due later, promoted to ready by dispatchers."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from .base import queue_atomic, tables
from .execution import ExecutionQuerySet, QueuedExecution
from .job import Job


class ScheduledExecutionQuerySet(ExecutionQuerySet["ScheduledExecution"]):
    def due(self) -> ScheduledExecutionQuerySet:
        return self.filter(scheduled_at__lte=timezone.now())

    def dispatch_next_batch(self, batch_size: int) -> int:
        """Move up to ``batch_size`` due jobs to ready, earliest first. Returns how many."""
        with queue_atomic():
            rows = list(
                self.due()
                .order_by("scheduled_at", "-priority", "id")
                .select_for_update(skip_locked=True)
                .values_list("id", "job_id", "queue_name", "priority")[:batch_size]
            )
            if rows:
                self._release(rows)
        return len(rows)

    def run_now(self) -> int:
        """Make these jobs due now instead of at their time (the admin's "Run now"): ready,
        or, for a concurrency-limited job, through its limit (blocked if no permit is free).

        Rows a dispatcher is moving at this moment are skipped: they are becoming ready anyway.
        """
        with queue_atomic():
            rows = list(
                self.select_for_update(skip_locked=True).values_list(
                    "id", "job_id", "queue_name", "priority"
                )
            )
            if rows:
                self._release(rows)
                # The job runs now: its detail page should not promise a later time.
                Job.objects.filter(id__in=[row[1] for row in rows]).update(
                    scheduled_at=timezone.now()
                )
        return len(rows)

    def _release(self, rows: list[tuple[Any, Any, str, int]]) -> None:
        """These locked rows' jobs are due: delete the rows, make plain jobs ready, and send
        concurrency-limited ones through their limit (a permit, or blocked)."""
        self.delete_rows([row[0] for row in rows])
        limited = set(
            Job.objects.filter(id__in=[row[1] for row in rows])
            .exclude(concurrency_key=None)
            .values_list("id", flat=True)
        )
        tables.ready.objects.add(row[1:] for row in rows if row[1] not in limited)
        jobs = Job.objects.in_bulk(limited)
        # Key by key (the lock order every transaction follows), in due order within a key.
        due = [jobs[job_id] for _, job_id, _, _ in rows if job_id in limited]
        for job in sorted(due, key=lambda j: j.concurrency_key or ""):
            job.enter(None)  # takes a permit, or blocks


ScheduledExecutionManager = models.Manager.from_queryset(ScheduledExecutionQuerySet)


class ScheduledExecution(QueuedExecution):
    scheduled_at = models.DateTimeField()

    objects = ScheduledExecutionManager()

    class Meta:
        db_table = "solidq_scheduled_executions"
        indexes = [
            models.Index(fields=["scheduled_at", "-priority", "id"], name="solidq_scheduled_due"),
            # The admin's queues page and the scheduled list of one queue.
            models.Index(fields=["queue_name", "scheduled_at"], name="solidq_scheduled_queue"),
        ]

    def __str__(self) -> str:
        return f"scheduled {self.job_id} at {self.scheduled_at}"
