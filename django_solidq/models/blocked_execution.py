"""BlockedExecution: jobs waiting for a concurrency permit (see Semaphore)."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone

from .base import QueueQuerySet, queue_atomic
from .job import Job


class BlockedExecutionQuerySet(QueueQuerySet["BlockedExecution"]):
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

    def release_one(self, key: str) -> bool:
        """Move the most urgent blocked job of ``key`` to ready if a permit is free."""
        from django_solidq.concurrency import limit_of
        from django_solidq.runtime.notifier import notify_ready

        from .ready_execution import ReadyExecution
        from .semaphore import Semaphore

        with queue_atomic():
            blocked = (
                self.filter(concurrency_key=key)
                .order_by("-priority", "id")
                .select_for_update(skip_locked=True)
                .values_list("id", "job_id", "job__task_path", "queue_name", "priority")
                .first()
            )
            if blocked is None:
                return False
            blocked_id, job_id, task_path, queue_name, priority = blocked
            limit = limit_of(task_path)
            if limit is not None and not Semaphore.objects.wait(key, limit.to, limit.lasts):
                return False
            self.filter(id=blocked_id)._raw_delete(self.db)
            ReadyExecution.objects.create(job_id=job_id, queue_name=queue_name, priority=priority)
            notify_ready(self.db)
        return True

    def hand_over(self, key: str) -> bool:
        """Pass a finishing job's permit straight to the most urgent blocked job of ``key``
        (moved to ready); False if none is blocked. Call with the key's semaphore locked."""
        from django_solidq.conf import get_config
        from django_solidq.runtime.notifier import notify_ready

        from . import postgres
        from .base import vendor
        from .ready_execution import ReadyExecution

        if vendor() == "postgresql":
            return postgres.hand_over(key, self.db, get_config().listen_notify)
        else:
            blocked = (
                self.filter(concurrency_key=key)
                .order_by("-priority", "id")
                .select_for_update(skip_locked=True)
                .values_list("id", "job_id", "queue_name", "priority")
                .first()
            )
            moved = blocked is not None
            if blocked is not None:
                blocked_id, job_id, queue_name, priority = blocked
                self.filter(id=blocked_id)._raw_delete(self.db)
                ReadyExecution.objects.create(
                    job_id=job_id, queue_name=queue_name, priority=priority
                )
        if moved:
            notify_ready(self.db)
        return moved

    def unblock_expired(self) -> int:
        """Concurrency maintenance: retry keys whose blocked jobs waited past their expiry
        (their permit holder may be gone without releasing). Returns jobs released."""
        keys = set(self.expired().values_list("concurrency_key", flat=True).distinct())
        return sum(self.release_one(key) for key in keys)

    def run_now(self) -> int:
        """Make these jobs ready now, outside their concurrency limit (the admin's "Run now").

        The job's concurrency key is cleared: it runs without a permit and gives none back
        when it ends, so the limit's count stays right for the jobs still under it."""
        from .ready_execution import ReadyExecution

        with queue_atomic():
            moved = ReadyExecution.objects.move_from(self)
            Job.objects.filter(id__in=moved).update(concurrency_key=None)
        return len(moved)

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
            # The admin's queues page: which queues have blocked jobs.
            models.Index(fields=["queue_name"], name="solidq_blocked_queue"),
        ]

    def __str__(self) -> str:
        return f"blocked {self.job_id} on {self.concurrency_key}"
