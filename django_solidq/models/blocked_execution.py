"""BlockedExecution: jobs waiting for a concurrency permit (see Semaphore)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from .base import QueueQuerySet, queue_atomic
from .job import Job


class BlockedExecutionQuerySet(QueueQuerySet["BlockedExecution"]):
    def expired(self) -> BlockedExecutionQuerySet:
        return self.filter(expires_at__lte=timezone.now())

    def discard(self) -> int:
        """End these jobs without running them (kept, marked discarded). A blocked job holds
        no permit, so there is nothing to release."""
        with queue_atomic():
            rows = list(self.select_for_update().values_list("id", "job_id"))
            if not rows:
                return 0
            BlockedExecution.objects.filter(id__in=[r[0] for r in rows])._raw_delete(self.db)
            now = timezone.now()
            Job.objects.filter(id__in=[r[1] for r in rows]).update(
                finished_at=now, discarded_at=now
            )
        return len(rows)


BlockedExecutionManager = models.Manager.from_queryset(BlockedExecutionQuerySet)


class BlockedExecution(models.Model):
    id = models.BigAutoField(primary_key=True)
    job = models.OneToOneField(Job, on_delete=models.CASCADE)
    queue_name = models.CharField(max_length=128)
    priority = models.SmallIntegerField(default=0)
    concurrency_key = models.CharField(max_length=255)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = BlockedExecutionManager()

    class Meta:
        db_table = "solidq_blocked_executions"
        indexes = [
            models.Index(
                fields=["concurrency_key", "-priority", "id"], name="solidq_blocked_release"
            ),
            models.Index(fields=["expires_at", "concurrency_key"], name="solidq_blocked_expiry"),
        ]

    def __str__(self) -> str:
        return f"blocked {self.job_id} on {self.concurrency_key}"
