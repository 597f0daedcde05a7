"""Recurring tasks: their options (from ``SOLIDQ['RECURRING']`` or the API), their checks, the
dynamic-task API and the built-in tasks a recurring entry can run.

An entry mirrors Solid Queue's ``recurring.yml``::

    SOLIDQ = {"RECURRING": {
        "nightly_report": {"task": "reports.tasks.nightly", "schedule": "every day at 2am",
                           "args": ["full"], "queue": "reports", "priority": 10},
        "clear_sessions": {"command": "clearsessions", "schedule": "every day at 3am"},
    }}

The scheduler (``runtime.scheduler``) enqueues them; the models own the rows
(``RecurringTask``, and ``RecurringExecution`` — one row per enqueued tick).
"""

from __future__ import annotations

import importlib
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.tasks import Task, task
from django.tasks.exceptions import InvalidTask
from django.utils import timezone
from django.utils.module_loading import import_string

from .conf import Problem, build, raw_setting

if TYPE_CHECKING:
    from .models import RecurringTask

ENTRY_KEYS = ("task", "command", "schedule", "args", "kwargs", "queue", "priority", "description")
CLEAR_FINISHED_KEY = "solidq_clear_finished"
CLEAR_FINISHED_SCHEDULE = "every hour"
KEY_MAX_LENGTH = 255


# The built-in tasks ---------------------------------------------------------------------------
@task
def run_command(command: str) -> None:
    """Run a management command line (a recurring entry's ``command``), as ``manage.py`` would:
    ``run_command.enqueue("clearsessions")``."""
    from django.core.management import call_command

    name, *arguments = shlex.split(command)
    call_command(name, *arguments)


@task
def clear_finished_jobs() -> int:
    """Delete jobs that finished more than ``SOLIDQ['CLEAR_FINISHED_JOBS_AFTER']`` ago (the
    built-in recurring task ``solidq_clear_finished``). Returns how many were deleted."""
    from .conf import get_config
    from .models import Job

    cutoff = timezone.now() - get_config().clear_finished_jobs_after_delta
    return Job.objects.clear_finished(cutoff)


# The command runner: what may reach it ---------------------------------------------------------
def is_command_runner(found: Any) -> bool:
    """Whether ``found`` is the built-in command runner, under whatever name it was reached
    (``django_solidq.recurring.run_command`` is importable through any module importing it, and
    ``using()`` makes copies): compared by the function it runs, not by its path."""
    return isinstance(found, Task) and found.func is run_command.func


def task_modules() -> set[str]:
    """The modules a form may import to find a task: each installed app's ``tasks`` module,
    where tasks live by convention. Anything else must already be imported."""
    from django.apps import apps

    return {f"{app.name}.tasks" for app in apps.get_app_configs()}


def resolve_known_task(path: str) -> Any:
    """The object at dotted ``path``, importing nothing but a module that defines tasks: the
    module must already be imported, or be (under) an installed app's ``tasks`` module.
    Raises ImportError otherwise, so a form never runs a module's import-time code."""
    module_name, _, attribute = path.rpartition(".")
    if not module_name or not attribute:
        raise ImportError(f"{path!r} is not a dotted path (module.function)")
    module = sys.modules.get(module_name)
    if module is None:
        if not any(
            module_name == name or module_name.startswith(f"{name}.") for name in task_modules()
        ):
            raise ImportError(
                f"module {module_name!r} is not loaded and is not an app's tasks module (only "
                "installed apps' 'tasks' modules are imported from here)"
            )
        module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError as exc:
        raise ImportError(f"module {module_name!r} has no attribute {attribute!r}") from exc


def command_name(line: Any) -> str | None:
    """The management command a command line runs (None when it is not a command line)."""
    try:
        words = shlex.split(line) if isinstance(line, str) else []
    except ValueError:
        return None
    return words[0] if words else None


def refuse_commands_not_allowed(row: RecurringTask) -> None:
    """Raise CommandNotAllowed unless the settings allow what ``row`` runs: a command line (its
    ``command``, or the command runner reached through ``task_path``) runs only when
    ``SOLIDQ['RECURRING']`` defines this very row, or, for a dynamic ``command``, when its
    name is in ``SOLIDQ['ADMIN_RECURRING_COMMANDS']``. The admin refuses the rest when a task
    is saved; this holds for rows written any other way (defence in depth)."""
    from .conf import get_config
    from .exceptions import CommandNotAllowed

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
    whose name ``SOLIDQ['ADMIN_RECURRING_COMMANDS']`` does not list. A command line can run
    any code (``shell -c "…"``); settings entries are not limited by this."""
    from .conf import get_config

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
    if entry_problems(row.key, options, "settings"):
        return False
    return row.defines(row_fields(options), static=True)


# Static entries: settings plus the built-in cleanup -------------------------------------------
def builtin_entries(raw: Any = None) -> dict[str, dict[str, Any]]:
    """The built-in recurring tasks that the setting turns on (read from the raw setting, so
    the checks can run even when another part of ``SOLIDQ`` is wrong)."""
    config = build(raw_setting() if raw is None else raw)
    if config.clear_finished_jobs and config.preserve_finished_jobs:
        return {
            CLEAR_FINISHED_KEY: {
                "task": f"{__name__}.clear_finished_jobs",
                "schedule": CLEAR_FINISHED_SCHEDULE,
                "description": "Built in: delete jobs finished more than "
                "SOLIDQ['CLEAR_FINISHED_JOBS_AFTER'] ago.",
            }
        }
    return {}


def static_entries(raw: Any = None) -> dict[str, dict[str, Any]]:
    """Every static recurring task, key -> options: ``SOLIDQ['RECURRING']`` and the built-in
    ones (an entry of the setting with a built-in's key replaces it)."""
    raw = raw_setting() if raw is None else raw
    recurring = raw.get("RECURRING", {}) if isinstance(raw, dict) else {}
    return {**builtin_entries(raw), **(recurring if isinstance(recurring, dict) else {})}


# Validation -----------------------------------------------------------------------------------
def check_recurring(raw: Any = None) -> list[Problem]:
    """Every problem of the static recurring tasks (system checks ``E013``…``E019``)."""
    raw = raw_setting() if raw is None else raw
    builtins = builtin_entries(raw)
    recurring = raw.get("RECURRING") if isinstance(raw, dict) else None
    own = recurring if isinstance(recurring, dict) else {}
    problems: list[Problem] = []
    for key, options in static_entries(raw).items():
        if key in builtins and key not in own:
            where = f"the built-in recurring task {key!r}"
            fix = (
                " (or set SOLIDQ['CLEAR_FINISHED_JOBS'] = False, or define "
                f"SOLIDQ['RECURRING'][{key!r}] yourself)"
            )
        else:
            where, fix = f"SOLIDQ['RECURRING'][{key!r}]", ""
        problems += [
            Problem(p.id, p.msg, f"{p.hint}{fix}" if fix else p.hint)
            for p in entry_problems(key, options, where)
        ]
    return problems


def entry_problems(
    key: Any, options: Any, where: str, resolve: Callable[[str], Any] = import_string
) -> list[Problem]:
    """What is wrong with one recurring entry; ``where`` names it in the messages. ``resolve``
    turns the task's dotted path into the object (the admin passes ``resolve_known_task``,
    which imports no module beyond those that define tasks)."""
    if not isinstance(key, str) or not key or len(key) > KEY_MAX_LENGTH:
        return [
            Problem(
                "django_solidq.E017",
                f"{where}: the key must be a non-empty string of at most {KEY_MAX_LENGTH} "
                f"characters, got {key!r}.",
                "Name each recurring task with a short string.",
            )
        ]
    if not isinstance(options, dict):
        return [
            Problem(
                "django_solidq.E017",
                f"{where} must be a dict of options, got {type(options).__name__}.",
                "Use e.g. {'task': 'app.tasks.cleanup', 'schedule': 'every day at 2am'}.",
            )
        ]
    problems = [
        Problem(
            "django_solidq.E017",
            f"Unknown key {name!r} in {where}.",
            f"Allowed keys are: {', '.join(sorted(ENTRY_KEYS))}.",
        )
        for name in options
        if name not in ENTRY_KEYS
    ]
    problems += _schedule_problems(where, options.get("schedule"))
    task_path, command = options.get("task"), options.get("command")
    if (task_path is None) == (command is None):
        both = "both" if task_path is not None else "neither"
        problems.append(
            Problem(
                "django_solidq.E016",
                f"{where} has {both} of 'task' and 'command'.",
                "Give exactly one: 'task' (the dotted path of a @task function) or 'command' "
                "(a management command line, e.g. 'clearsessions').",
            )
        )
        return problems
    if command is not None:
        return problems + _command_problems(where, command, options)
    found, task_problems = _task_problems(where, task_path, resolve)
    problems += task_problems
    problems += _argument_problems(where, options, found)
    return problems


def _schedule_problems(where: str, text: Any) -> list[Problem]:
    from .schedule import InvalidSchedule, parse_schedule

    if not isinstance(text, str) or not text.strip():
        return [
            Problem(
                "django_solidq.E013",
                f"{where}['schedule'] must be a schedule string, got {text!r}.",
                "Use a cron line ('0 2 * * *') or a phrase ('every day at 2am'); see "
                "docs/recurring.md.",
            )
        ]
    try:
        parse_schedule(text)
    except InvalidSchedule as exc:
        return [
            Problem(
                "django_solidq.E013",
                f"{where}['schedule'] is invalid: {exc}",
                "Fix the schedule: a cron line ('0 2 * * *') or a phrase ('every day at "
                "2am'); see docs/recurring.md.",
            )
        ]
    return []


def _task_problems(
    where: str, task_path: Any, resolve: Callable[[str], Any]
) -> tuple[Task | None, list[Problem]]:
    if isinstance(task_path, Task):
        task_path = task_path.module_path
    if not isinstance(task_path, str) or not task_path:
        return None, [
            Problem(
                "django_solidq.E014",
                f"{where}['task'] must be the dotted path of a task, got {task_path!r}.",
                "Use e.g. 'myapp.tasks.cleanup' (a function decorated with @task).",
            )
        ]
    try:
        found = resolve(task_path)
    except ImportError as exc:
        return None, [
            Problem(
                "django_solidq.E014",
                f"{where}['task'] {task_path!r} cannot be imported: {exc}.",
                "Fix the dotted path (module.function) or remove the entry.",
            )
        ]
    if not isinstance(found, Task):
        return None, [
            Problem(
                "django_solidq.E014",
                f"{where}['task'] {task_path!r} is a {type(found).__name__}, not a Task.",
                "Decorate the function with @task (django.tasks.task).",
            )
        ]
    return found, []


def _command_problems(where: str, command: Any, options: dict[str, Any]) -> list[Problem]:
    from django.core.management import get_commands

    problems: list[Problem] = []
    for name in ("args", "kwargs"):
        if options.get(name):
            problems.append(
                Problem(
                    "django_solidq.E018",
                    f"{where}[{name!r}] does not apply to a command.",
                    "Write the command's arguments in the 'command' string, e.g. "
                    "'clearsessions --verbosity 2'.",
                )
            )
    problems += _option_problems(where, options, run_command)
    if not isinstance(command, str):
        return [
            *problems,
            Problem(
                "django_solidq.E015",
                f"{where}['command'] must be a command line string, got {command!r}.",
                "Use e.g. 'clearsessions' or 'mycommand --flag value'.",
            ),
        ]
    try:
        words = shlex.split(command)
    except ValueError as exc:
        return [
            *problems,
            Problem(
                "django_solidq.E015",
                f"{where}['command'] {command!r} cannot be split into words: {exc}.",
                "Close the quotes in the command line.",
            ),
        ]
    if not words or words[0] not in get_commands():
        name = words[0] if words else ""
        problems.append(
            Problem(
                "django_solidq.E015",
                f"{where}['command'] {command!r}: {name!r} is not a management command.",
                "Use the name of a command listed by 'manage.py help' (without 'manage.py').",
            )
        )
    return problems


def _argument_problems(where: str, options: dict[str, Any], found: Task | None) -> list[Problem]:
    from .arguments import normalize_arguments
    from .exceptions import ArgumentNotSerializable

    args, kwargs = options.get("args", []), options.get("kwargs", {})
    problems: list[Problem] = []
    if not isinstance(args, list | tuple):
        problems.append(
            Problem(
                "django_solidq.E018",
                f"{where}['args'] must be a list, got {args!r}.",
                "Use a list of JSON values, e.g. ['weekly', 10].",
            )
        )
    if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
        problems.append(
            Problem(
                "django_solidq.E018",
                f"{where}['kwargs'] must be a dict with string keys, got {kwargs!r}.",
                "Use a dict of JSON values, e.g. {'days': 7}.",
            )
        )
    if problems or found is None:
        return problems
    try:
        normalize_arguments(found.module_path, args, kwargs)
    except ArgumentNotSerializable as exc:
        problems.append(
            Problem(
                "django_solidq.E018",
                f"{where}: {exc}",
                "Recurring arguments are stored as JSON: use strings, numbers, booleans, "
                "None, lists and dicts.",
            )
        )
    return problems + _option_problems(where, options, found)


def _option_problems(where: str, options: dict[str, Any], found: Task) -> list[Problem]:
    """queue, priority and description, checked by the task's backend as at enqueue."""
    queue, priority = options.get("queue"), options.get("priority")
    description = options.get("description", "")
    problems: list[Problem] = []
    if queue is not None and (not isinstance(queue, str) or not queue.strip()):
        problems.append(
            Problem(
                "django_solidq.E019",
                f"{where}['queue'] must be a queue name, got {queue!r}.",
                "Use a non-empty string, or leave 'queue' out for the task's own queue.",
            )
        )
    if priority is not None and (not isinstance(priority, int) or isinstance(priority, bool)):
        problems.append(
            Problem(
                "django_solidq.E019",
                f"{where}['priority'] must be a whole number, got {priority!r}.",
                "Use a number from -100 to 100 (larger runs first), or leave it out.",
            )
        )
    if description is not None and not isinstance(description, str):
        problems.append(
            Problem(
                "django_solidq.E019",
                f"{where}['description'] must be a string, got {description!r}.",
                "Describe the task in words, or leave 'description' out.",
            )
        )
    if problems:
        return problems
    try:
        solid_task(found, queue, priority)
    except (InvalidTask, ValueError) as exc:
        problems.append(
            Problem(
                "django_solidq.E019",
                f"{where}: {exc}",
                "Use a priority from -100 to 100 and a queue the backend allows "
                "(TASKS[...]['QUEUES']).",
            )
        )
    return problems


# From options to the queue --------------------------------------------------------------------
def solid_task(found: Task, queue: str | None = None, priority: int | None = None) -> Task:
    """``found`` with the entry's queue and priority, on a SolidQueueBackend (its own, or the
    first configured one when the task belongs to another backend)."""
    from .backend import SolidQueueBackend

    changes: dict[str, Any] = {}
    if queue is not None:
        changes["queue_name"] = queue
    if priority is not None:
        changes["priority"] = priority
    if not isinstance(found.get_backend(), SolidQueueBackend):
        changes["backend"] = solid_backend_alias()
    return found.using(**changes) if changes else found


def solid_backend_alias() -> str:
    """The alias of the first SolidQueueBackend in ``TASKS``."""
    from django.tasks import task_backends

    from .backend import SolidQueueBackend

    for alias in getattr(settings, "TASKS", {}):
        if isinstance(task_backends[alias], SolidQueueBackend):
            return str(alias)
    raise InvalidTask("No SolidQueueBackend is configured in TASKS.")


def row_fields(options: dict[str, Any]) -> dict[str, Any]:
    """A valid entry's options as ``RecurringTask`` columns."""
    target = options.get("task")
    command = options.get("command")
    return {
        "schedule": options["schedule"],
        "task_path": None if command is not None else _path(target),
        "command": command,
        "args": [] if command is not None else list(options.get("args", [])),
        "kwargs": {} if command is not None else dict(options.get("kwargs", {})),
        "queue_name": options.get("queue"),
        "priority": options.get("priority"),
        "description": options.get("description") or "",
    }


def _path(target: Any) -> str:
    return target.module_path if isinstance(target, Task) else str(target)


# Dynamic tasks --------------------------------------------------------------------------------
def schedule_recurring_task(
    key: str,
    *,
    schedule: str,
    task: Task | str | None = None,
    command: str | None = None,
    args: Sequence[Any] = (),
    kwargs: dict[str, Any] | None = None,
    queue: str | None = None,
    priority: int | None = None,
    description: str = "",
) -> RecurringTask:
    """Create or replace the dynamic recurring task ``key``: running schedulers pick it up
    within a second or two, without a restart. Raises ``ValueError`` naming the problem."""
    from .models import RecurringTask

    options: dict[str, Any] = {
        "schedule": schedule,
        "args": list(args) if isinstance(args, list | tuple) else args,
        "kwargs": {} if kwargs is None else kwargs,
        "queue": queue,
        "priority": priority,
        "description": description,
    }
    if task is not None:
        options["task"] = task
    if command is not None:
        options["command"] = command
    problems = entry_problems(key, options, f"Recurring task {key!r}")
    if problems:
        raise ValueError(" ".join(f"{p.msg} {p.hint}".strip() for p in problems))
    refused = dynamic_problems(options)
    if refused:
        raise ValueError(" ".join(message for _, message in refused))
    if key in static_entries():
        raise ValueError(
            f"Recurring task {key!r} is defined in settings (static); change it in "
            "SOLIDQ['RECURRING'] or pick another key."
        )
    return RecurringTask.objects.schedule_dynamic(key, row_fields(options))


def unschedule_recurring_task(key: str) -> bool:
    """Delete the dynamic recurring task ``key``; running schedulers stop enqueueing it within
    a second or two. Returns whether it existed. Static tasks are removed from settings."""
    from .models import RecurringTask

    if key in static_entries():
        raise ValueError(
            f"Recurring task {key!r} is defined in settings (static); remove it from "
            "SOLIDQ['RECURRING'] and restart runjobs."
        )
    return RecurringTask.objects.unschedule_dynamic(key)
