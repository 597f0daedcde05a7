"""Recurring tasks: their options (from ``SOLIDQ['RECURRING']`` or the API), their checks, the
dynamic-task API and the built-in tasks a recurring entry can run.

An entry mirrors Solid Queue's ``recurring.yml``::

    SOLIDQ = {"RECURRING": {
        "nightly_report": {"task": "reports.tasks.nightly", "schedule": "every day at 2am",
                           "args": ["full"], "queue": "reports", "priority": 10},
        "clear_sessions": {"command": "clearsessions", "schedule": "every day at 3am"},
    }}

Its options are the field table ``django_solidq.models.recurring_task.ENTRY_FIELDS``. The
modules here, one job each: ``builtin`` (the tasks ``run_command`` and
``clear_finished_jobs``), ``targets`` (what an entry runs), ``validation`` (one entry's
problems), ``entries`` (the static entries and their checks), ``commands`` (which command
lines may run), ``ticks`` (enqueueing a tick, or now) and ``api`` (dynamic tasks). The
scheduler (``runtime.scheduler``) calls ``enqueue_tick``; the models own the rows
(``RecurringTask``, and ``RecurringExecution`` — one row per enqueued tick).
"""

from __future__ import annotations

from .api import schedule_recurring_task, unschedule_recurring_task
from .builtin import CLEAR_FINISHED_KEY, CLEAR_FINISHED_SCHEDULE, clear_finished_jobs, run_command
from .commands import dynamic_problems, refuse_commands_not_allowed
from .entries import (
    builtin_entries,
    check_recurring,
    row_fields,
    settings_where,
    static_definitions,
    static_entries,
)
from .targets import (
    command_name,
    is_command_runner,
    resolve_known_task,
    solid_backend_alias,
    solid_task,
    task_modules,
)
from .ticks import enqueue_tick, run_now, task_call
from .validation import KEY_MAX_LENGTH, Where, entry_problems

__all__ = [
    "CLEAR_FINISHED_KEY",
    "CLEAR_FINISHED_SCHEDULE",
    "KEY_MAX_LENGTH",
    "Where",
    "builtin_entries",
    "check_recurring",
    "clear_finished_jobs",
    "command_name",
    "dynamic_problems",
    "enqueue_tick",
    "entry_problems",
    "is_command_runner",
    "refuse_commands_not_allowed",
    "resolve_known_task",
    "row_fields",
    "run_command",
    "run_now",
    "schedule_recurring_task",
    "settings_where",
    "solid_backend_alias",
    "solid_task",
    "static_definitions",
    "static_entries",
    "task_call",
    "task_modules",
    "unschedule_recurring_task",
]
