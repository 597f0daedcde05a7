"""BlockedExecution: jobs waiting for a concurrency permit (see Semaphore)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import models
from django.utils import timezone

from django_solidq.concurrency import limit_of
from django_solidq.ops import ops_for

from .base import queue_atomic, tables
from .execution import ExecutionQuerySet, QueuedExecution
from .job import Job


class BlockedExecutionQuerySet(ExecutionQuerySet["BlockedExecution"]):
    def expired(self) -> BlockedExecutionQuerySet:
        return self.filter(expires_at__lte=timezone.now())

    def block(self, job: Job, duration: timedelta) -> BlockedExecution:
        assert job.concurrency_key
        return self.create(
            job=job,
            queue_name=job.queue_name,
            priority=job.priority,
            concurrency_key=job.concurrency_key,
            expires_at=timezone.now() + duration,
        )

    def locked_next(self, key: str) -> tuple[Any, Any, str, str, int] | None:
        """The most urgent blocked job of ``key``, locked (rows others hold are skipped):
        ``(row id, job id, task path, queue name, priority)``."""
        return (
            self.filter(concurrency_key=key)
            .order_by("-priority", "id")
            .select_for_update(skip_locked=True)
            .values_list("id", "job_id", "job__task_path", "queue_name", "priority")
            .first()
        )

    def release_next(self, key: str, handing_over: bool = False) -> bool:
        """Move the most urgent blocked job of ``key`` to ready; False if none moved.

        The job takes a free permit of the key — or, ``handing_over``, the permit of a job of
        the key that just stopped (call with the key's semaphore locked then): the permit
        passes without touching the semaphore, half the writes of a give-back and a take."""
        if handing_over:
            return ops_for(self.db).hand_over(self, tables.ready.objects, key)
        with queue_atomic():
            blocked = self.locked_next(key)
            if blocked is None:
                return False
            blocked_id, job_id, task_path, queue_name, priority = blocked
            limit = limit_of(task_path)
            if limit is not None and not tables.semaphore.objects.wait(key, limit.to, limit.lasts):
                return False
            self.delete_rows([blocked_id])
            tables.ready.objects.add([(job_id, queue_name, priority)])
        return True

    def unblock_expired(self) -> int:
        """Concurrency maintenance: retry keys whose blocked jobs waited past their expiry
        (their permit holder may be gone without releasing). Returns jobs released."""
        keys = set(self.expired().values_list("concurrency_key", flat=True).distinct())
        return sum(self.release_next(key) for key in keys)

    def run_now(self) -> int:
        """Make these jobs ready now, outside their concurrency limit (the admin's "Run now").

        The job's concurrency key is cleared: it runs without a permit and gives none back
        when it ends, so the limit's count stays right for the jobs still under it."""
        with queue_atomic():
            moved = tables.ready.objects.move_from(self)
            Job.objects.filter(id__in=moved).update(concurrency_key=None)
        return len(moved)


BlockedExecutionManager = models.Manager.from_queryset(BlockedExecutionQuerySet)


class BlockedExecution(QueuedExecution):
    concurrency_key = models.CharField(max_length=255)
    expires_at = models.DateTimeField()

    objects = BlockedExecutionManager()

    class Meta:
        db_table = "solidq_blocked_executions"
        indexes = [
            models.Index(
                fields=["concurrency_key", "-priority", "id"], name="solidq_blocked_release"
            ),
            models.Index(fields=["expires_at", "concurrency_key"], name="solidq_blocked_expiry"),
            # The admin's queues page: which queues have blocked jobs.
            models.Index(fields=["queue_name"], name="solidq_blocked_queue"),
        ]

    def __str__(self) -> str:
        return f"blocked {self.job_id} on {self.concurrency_key}"
