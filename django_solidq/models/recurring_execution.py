"""RecurringExecution: one row per (recurring task, tick). Its unique index is what keeps any
number of schedulers from enqueueing the same tick twice."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, models
from django.utils import timezone

from .base import QueueQuerySet, queue_atomic
from .job import Job


class RecurringExecutionQuerySet(QueueQuerySet["RecurringExecution"]):
    def enqueue(self, task_key: str, run_at: datetime, job: Job) -> bool:
        """Enqueue ``job`` (built, not stored) as the tick ``run_at`` of the recurring task
        ``task_key``: the tick's row and the job in one transaction. The row is unique per
        (task, tick), so when another scheduler got this tick first nothing is written and
        False is returned."""
        try:
            with queue_atomic():
                self.create(task_key=task_key, run_at=run_at, job_id=job.id)
                Job.objects.enqueue(job)
        except IntegrityError:
            return False
        return True


RecurringExecutionManager = models.Manager.from_queryset(RecurringExecutionQuerySet)


class RecurringExecution(models.Model):
    id = models.BigAutoField(primary_key=True)
    task_key = models.CharField(max_length=255)
    run_at = models.DateTimeField()
    # No constraint: finished jobs are cleared in bulk; the tick row outlives its job.
    job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RecurringExecutionManager()

    class Meta:
        db_table = "solidq_recurring_executions"
        constraints = [
            models.UniqueConstraint(fields=["task_key", "run_at"], name="solidq_recurring_tick")
        ]
        indexes = [models.Index(fields=["run_at"], name="solidq_recurring_run_at")]

    def __str__(self) -> str:
        return f"{self.task_key} at {self.run_at}"
