"""Which command lines a recurring task may run. A command line can run any code
(``shell -c "…"``): settings entries may run any command, dynamic tasks (the admin, the API,
rows written to the table any other way) only those ``SOLIDQ['ADMIN_RECURRING_COMMANDS']``
names, and never the command runner as a task."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.tasks import Task
from django.utils.module_loading import import_string

from django_solidq.conf import get_config
from django_solidq.exceptions import CommandNotAllowed
from django_solidq.models import RecurringTask

from .entries import row_fields, settings_where, static_entries
from .targets import command_name, is_command_runner
from .validation import entry_problems


def refuse_commands_not_allowed(row: RecurringTask) -> None:
    """Raise CommandNotAllowed unless the settings allow what ``row`` runs: a command line (its
    ``command``, or the command runner reached through ``task_path``) runs only when
    ``SOLIDQ['RECURRING']`` defines this very row, or, for a dynamic ``command``, when its
    name is in ``SOLIDQ['ADMIN_RECURRING_COMMANDS']``. The admin refuses the rest when a task
    is saved; this holds for rows written any other way (defence in depth)."""
    if row.command is None:
        try:
            runner = is_command_runner(import_string(row.task_path or ""))
        except ImportError:
            return  # the scheduler reports the broken path itself
        if not runner:
            return
    if _defined_in_settings(row):
        return
    allowed = get_config().admin_recurring_commands
    if row.command is not None and command_name(row.command) in allowed:
        return
    raise CommandNotAllowed(
        f"Recurring task {row.key!r} would run a command line that the settings do not allow "
        f"({row.command or row.task_path!r}); it is not enqueued. Define it in "
        "SOLIDQ['RECURRING'], or add the command's name to "
        "SOLIDQ['ADMIN_RECURRING_COMMANDS'], or delete the row."
    )


def dynamic_problems(
    options: dict[str, Any],
    resolve: Callable[[str], Any] = import_string,
    source: str = "as a dynamic task",
) -> list[tuple[str, str]]:
    """What a dynamic task (the admin's form, ``schedule_recurring_task``, the table) may not
    run, as (option, message): the command runner as a task under any name, and a command
    whose name ``SOLIDQ['ADMIN_RECURRING_COMMANDS']`` does not list. Settings entries are not
    limited by this."""
    problems: list[tuple[str, str]] = []
    task_path = options.get("task")
    if isinstance(task_path, Task):
        task_path = task_path.module_path
    if isinstance(task_path, str):
        try:
            runner = is_command_runner(resolve(task_path))
        except ImportError:  # the entry check says so
            runner = False
        if runner:
            problems.append(
                (
                    "task",
                    f"The command runner can't be scheduled {source}: give a command instead "
                    "(if allowed), or a task.",
                )
            )
    name = command_name(options.get("command"))
    if name is not None and name not in get_config().admin_recurring_commands:
        problems.append(
            (
                "command",
                f"The command {name!r} can't be scheduled {source}: a command line can run "
                f"any code. Schedule a @task instead, or add {name!r} to "
                "SOLIDQ['ADMIN_RECURRING_COMMANDS'] in settings.",
            )
        )
    return problems


def _defined_in_settings(row: RecurringTask) -> bool:
    options = static_entries().get(row.key)
    if not row.static or not isinstance(options, dict):
        return False
    if entry_problems(row.key, options, settings_where(row.key)):
        return False
    return row.defines(row_fields(options), static=True)
