"""RecurringTask: a task enqueued on a schedule (static from settings, or dynamic)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from .base import QueueQuerySet


class RecurringTaskQuerySet(QueueQuerySet["RecurringTask"]):
    def static(self) -> RecurringTaskQuerySet:
        return self.filter(static=True)


RecurringTaskManager = models.Manager.from_queryset(RecurringTaskQuerySet)


class RecurringTask(models.Model):
    id = models.BigAutoField(primary_key=True)
    key = models.CharField(max_length=255, unique=True)
    schedule = models.CharField(max_length=255)
    # NULL, not "": the check constraint below wants exactly one of task_path and command.
    task_path = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    command = models.CharField(max_length=1024, null=True, blank=True)  # noqa: DJ001
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    queue_name = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    priority = models.SmallIntegerField(null=True, blank=True)
    description = models.TextField(blank=True, default="")
    static = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = RecurringTaskManager()

    class Meta:
        db_table = "solidq_recurring_tasks"
        indexes = [models.Index(fields=["static"], name="solidq_recurring_static")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(task_path__isnull=False, command__isnull=True)
                    | models.Q(task_path__isnull=True, command__isnull=False)
                ),
                name="solidq_recurring_task_xor_command",
            ),
            models.CheckConstraint(
                condition=models.Q(priority__isnull=True)
                | (models.Q(priority__gte=-100) & models.Q(priority__lte=100)),
                name="solidq_recurring_priority_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.schedule})"
