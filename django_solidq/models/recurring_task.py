"""RecurringTask: a task enqueued on a schedule (static from settings, or dynamic)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connections, models
from django.tasks import Task
from django.utils import timezone

from .base import QueueQuerySet, queue_atomic

if TYPE_CHECKING:
    from django.tasks import TaskResult

    from django_solidq.schedule import Schedule

    from .job import Job

# The columns a recurring entry sets (see django_solidq.recurring.row_fields).
DEFINITION_FIELDS = (
    "schedule",
    "task_path",
    "command",
    "args",
    "kwargs",
    "queue_name",
    "priority",
    "description",
)


class RecurringTaskQuerySet(QueueQuerySet["RecurringTask"]):
    def static(self) -> RecurringTaskQuerySet:
        return self.filter(static=True)

    def dynamic(self) -> RecurringTaskQuerySet:
        return self.filter(static=False)

    def sync_static(self, definitions: dict[str, dict[str, Any]]) -> tuple[int, int]:
        """Make the static rows match ``definitions`` (key -> columns): insert or update what
        differs, delete static rows no longer defined; dynamic rows are left alone (a dynamic
        row with a static key becomes static). Safe to run from several schedulers at once.
        Returns (rows written, rows deleted)."""
        now = timezone.now()
        connection = connections[self.db]
        with queue_atomic():
            existing = {row.key: row for row in self.filter(key__in=list(definitions))}
            changed = [
                RecurringTask(key=key, static=True, created_at=now, updated_at=now, **columns)
                for key, columns in definitions.items()
                if key not in existing or not existing[key].defines(columns, static=True)
            ]
            if changed:
                self.bulk_create(
                    changed,
                    update_conflicts=True,
                    update_fields=[*DEFINITION_FIELDS, "static", "updated_at"],
                    # MySQL/MariaDB upsert on any unique key and take no conflict target.
                    unique_fields=(
                        ["key"]
                        if connection.features.supports_update_conflicts_with_target
                        else None
                    ),
                )
            deleted, _ = self.static().exclude(key__in=list(definitions)).delete()
        return len(changed), deleted

    def schedule_dynamic(self, key: str, columns: dict[str, Any]) -> RecurringTask:
        row, _ = self.update_or_create(
            key=key,
            defaults={**columns, "static": False, "updated_at": timezone.now()},
        )
        return row

    def unschedule_dynamic(self, key: str) -> bool:
        deleted, _ = self.dynamic().filter(key=key).delete()
        return deleted > 0


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

    def defines(self, columns: dict[str, Any], static: bool) -> bool:
        """Whether this row already holds these columns."""
        return self.static == static and all(
            getattr(self, name) == value for name, value in columns.items()
        )

    def parsed_schedule(self) -> Schedule:
        """The schedule (in ``TIME_ZONE`` unless it names a zone); raises InvalidSchedule."""
        from django_solidq.schedule import parse_schedule

        return parse_schedule(self.schedule)

    def call(self) -> tuple[Task, list[Any], dict[str, Any]]:
        """The task to enqueue (with this row's queue and priority, on a SolidQueueBackend)
        and its arguments. A command runs through ``django_solidq.recurring.run_command``."""
        from django.utils.module_loading import import_string

        from django_solidq.exceptions import TaskImportError
        from django_solidq.recurring import refuse_commands_not_allowed, run_command, solid_task

        refuse_commands_not_allowed(self)  # rows written by hand run no command line
        if self.command is not None:
            return solid_task(run_command, self.queue_name, self.priority), [self.command], {}
        found = import_string(self.task_path or "")
        if not isinstance(found, Task):
            raise TaskImportError(f"Recurring task {self.key!r}: {self.task_path!r} is not a Task.")
        return solid_task(found, self.queue_name, self.priority), list(self.args), self.kwargs

    def enqueue_tick(self, run_at: datetime) -> Job | None:
        """Enqueue the job of the tick ``run_at``: its ``RecurringExecution`` row and the job in
        one transaction. The row is unique per (key, tick), so when another scheduler got this
        tick first nothing is enqueued and None is returned."""
        from django_solidq.backend import SolidQueueBackend

        from .job import Job
        from .recurring_execution import RecurringExecution

        task, args, kwargs = self.call()
        backend = task.get_backend()
        assert isinstance(backend, SolidQueueBackend)  # solid_task() made sure of it
        job, task = backend.prepare(task, args, kwargs)
        try:
            with queue_atomic():
                RecurringExecution.objects.create(task_key=self.key, run_at=run_at, job_id=job.id)
                Job.objects.enqueue(job)
        except IntegrityError:
            return None
        backend._enqueued(job, task)  # task_enqueued, as for any enqueue
        enqueued: Job = job
        return enqueued

    def run_now(self) -> TaskResult:
        """Enqueue this task's job now, outside its schedule: no ``RecurringExecution`` row is
        written, so its ticks are not disturbed."""
        task, args, kwargs = self.call()
        result: TaskResult = task.enqueue(*args, **kwargs)
        return result
