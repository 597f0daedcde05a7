"""RecurringTask: a task enqueued on a schedule (static from settings, or dynamic), and the one
table of a recurring entry's fields (``ENTRY_FIELDS``), from which the entry checks
(``django_solidq.recurring``), this model's definition columns, the admin's form and list and
the options table of docs/recurring.md are all read."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.db import connections, models
from django.utils import timezone

from django_solidq.schedule import Schedule, parse_schedule

from .base import QueueQuerySet, queue_atomic

REQUIRED: Any = object()  # the default of an option that must be given


@dataclass(frozen=True)
class EntryField:
    """One option of a recurring entry (``SOLIDQ['RECURRING'][key]``, the keywords of
    ``schedule_recurring_task``, the admin's form) and the column that stores it."""

    option: str
    column: str
    kind: str  # what the value must be
    default: Any  # when the option is left out (REQUIRED: it must be given)
    check_id: str  # the system check reporting a bad value
    label: str
    meaning: str  # for the docs' table
    help_text: str = ""  # for the admin's form
    listed: tuple[str, ...] = ()  # the admin list's columns showing it

    def default_value(self) -> Any:
        return copy.deepcopy(self.default)


ENTRY_FIELDS = (
    EntryField(
        "description",
        "description",
        "string",
        "",
        "django_solidq.E019",
        "Description",
        "free text, shown in the admin",
    ),
    EntryField(
        "schedule",
        "schedule",
        "cron line or phrase",
        REQUIRED,
        "django_solidq.E013",
        "Schedule",
        "when it runs (see [Schedule syntax](#schedule-syntax))",
        "A cron line ('0 2 * * *', with an optional seconds field first) or a phrase ('every "
        "day at 2am', 'every 5 minutes', '@hourly').",
        listed=("schedule_display", "next_run"),
    ),
    EntryField(
        "task",
        "task_path",
        "dotted path of a `@task` function (or the Task); this or `command` (`E016`)",
        None,
        "django_solidq.E014",
        "Task",
        "the task its jobs run",
        "The dotted path of a @task function, e.g. myapp.tasks.cleanup. Give a task or a "
        "command, not both.",
        listed=("target",),
    ),
    EntryField(
        "command",
        "command",
        "management command line; this or `task` (`E016`)",
        None,
        "django_solidq.E015",
        "Command",
        'a management command line, e.g. `"clearsessions"` (see [Commands](#commands))',
        "A management command line, e.g. 'clearsessions --verbosity 0'. Give a task or a "
        "command, not both.",
        listed=("target",),
    ),
    EntryField(
        "args",
        "args",
        "list of JSON values",
        [],
        "django_solidq.E018",
        "Args",
        "the task's positional arguments; not for commands",
        'Positional arguments, a JSON list: ["weekly", 10]. Empty for none.',
    ),
    EntryField(
        "kwargs",
        "kwargs",
        "dict of JSON values",
        {},
        "django_solidq.E018",
        "Kwargs",
        "the task's keyword arguments; not for commands",
        'Keyword arguments, a JSON object: {"days": 7}. Empty for none.',
    ),
    EntryField(
        "queue",
        "queue_name",
        "queue name",
        None,
        "django_solidq.E019",
        "Queue",
        "the queue of its jobs (`None`: the task's `queue_name`, or its `queue_as`)",
        "Empty for the task's own queue.",
        listed=("queue",),
    ),
    EntryField(
        "priority",
        "priority",
        "whole number, -100 to 100",
        None,
        "django_solidq.E019",
        "Priority",
        "the priority of its jobs (`None`: the task's)",
        "From -100 to 100, larger runs first. Empty for the task's own priority.",
        listed=("priority",),
    ),
)
BY_OPTION = {field.option: field for field in ENTRY_FIELDS}
# The columns a recurring entry sets.
DEFINITION_FIELDS = tuple(field.column for field in ENTRY_FIELDS)


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
        return parse_schedule(self.schedule)
