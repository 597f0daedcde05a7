"""RecurringExecution: one row per (recurring task, tick). Its unique index is what keeps any
number of schedulers from enqueueing the same tick twice."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from .base import QueueQuerySet
from .job import Job


class RecurringExecutionQuerySet(QueueQuerySet["RecurringExecution"]):
    pass


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
