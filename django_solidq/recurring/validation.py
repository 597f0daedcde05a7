"""What is wrong with one recurring entry (system checks E013 to E019): its key and shape, its
schedule, and what it runs (a task, or a command); its arguments and the options of its call
are ``call_checks``'. Each problem carries the option it is about (``Problem.field``)."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

from django.core.management import get_commands
from django.tasks import Task
from django.utils.module_loading import import_string

from django_solidq.conf import Problem
from django_solidq.models.recurring_task import BY_OPTION
from django_solidq.schedule import InvalidSchedule, parse_schedule

from .builtin import run_command
from .call_checks import argument_problems, option_problems
from .wording import Where, problem

KEY_MAX_LENGTH = 255
SCHEDULE_HINT = "a cron line ('0 2 * * *') or a phrase ('every day at 2am'); see docs/recurring.md."


def entry_problems(
    key: Any,
    options: Any,
    where: str | Where,
    resolve: Callable[[str], Any] = import_string,
) -> list[Problem]:
    """What is wrong with one recurring entry; ``where`` names it in the messages. ``resolve``
    turns the task's dotted path into the object (the admin passes ``resolve_known_task``,
    which imports no module beyond those that define tasks)."""
    at = Where(where) if isinstance(where, str) else where
    if not isinstance(key, str) or not key or len(key) > KEY_MAX_LENGTH:
        return [
            Problem(
                "django_solidq.E017",
                at.about(
                    f"the key must be a non-empty string of at most {KEY_MAX_LENGTH} "
                    f"characters, got {key!r}."
                ),
                "Name each recurring task with a short string.",
                field="key",
            )
        ]
    if not isinstance(options, dict):
        return [
            Problem(
                "django_solidq.E017",
                f"{at.whole()} must be a dict of options, got {type(options).__name__}.",
                "Use e.g. {'task': 'app.tasks.cleanup', 'schedule': 'every day at 2am'}.",
            )
        ]
    problems = [
        Problem(
            "django_solidq.E017",
            f"Unknown key {name!r} in {at.whole()}.",
            f"Allowed keys are: {', '.join(sorted(BY_OPTION))}.",
        )
        for name in options
        if name not in BY_OPTION
    ]
    problems += _schedule_problems(at, options.get("schedule"))
    task_path, command = options.get("task"), options.get("command")
    if (task_path is None) == (command is None):
        both = "both" if task_path is not None else "neither"
        problems.append(
            Problem(
                "django_solidq.E016",
                f"{at.whole()} has {both} of 'task' and 'command'.",
                "Give exactly one: 'task' (the dotted path of a @task function) or 'command' "
                "(a management command line, e.g. 'clearsessions').",
                field="task",
            )
        )
        return problems
    if command is not None:
        return problems + _command_problems(at, command, options)
    found, task_problems = _task_problems(at, task_path, resolve)
    problems += task_problems
    problems += argument_problems(at, options, found)
    return problems


def _schedule_problems(at: Where, text: Any) -> list[Problem]:
    if not isinstance(text, str) or not text.strip():
        return [
            problem(
                "schedule",
                f"{at.option('schedule')} must be a schedule string, got {text!r}.",
                f"Use {SCHEDULE_HINT}",
            )
        ]
    try:
        parse_schedule(text)
    except InvalidSchedule as exc:
        return [
            problem(
                "schedule",
                f"{at.option('schedule')} is invalid: {exc}",
                f"Fix the schedule: {SCHEDULE_HINT}",
            )
        ]
    return []


def _task_problems(
    at: Where, task_path: Any, resolve: Callable[[str], Any]
) -> tuple[Task | None, list[Problem]]:
    if isinstance(task_path, Task):
        task_path = task_path.module_path
    where = at.option("task")
    if not isinstance(task_path, str) or not task_path:
        return None, [
            problem(
                "task",
                f"{where} must be the dotted path of a task, got {task_path!r}.",
                "Use e.g. 'myapp.tasks.cleanup' (a function decorated with @task).",
            )
        ]
    try:
        found = resolve(task_path)
    except ImportError as exc:
        return None, [
            problem(
                "task",
                f"{where} {task_path!r} cannot be imported: {exc}.",
                "Fix the dotted path (module.function) or remove the entry.",
            )
        ]
    if not isinstance(found, Task):
        return None, [
            problem(
                "task",
                f"{where} {task_path!r} is a {type(found).__name__}, not a Task.",
                "Decorate the function with @task (django.tasks.task).",
            )
        ]
    return found, []


def _command_problems(at: Where, command: Any, options: dict[str, Any]) -> list[Problem]:
    problems = [
        problem(
            name,
            f"{at.option(name)} does not apply to a command.",
            "Write the command's arguments in the 'command' string, e.g. "
            "'clearsessions --verbosity 2'.",
        )
        for name in ("args", "kwargs")
        if options.get(name)
    ]
    problems += option_problems(at, options, run_command)
    where = at.option("command")
    if not isinstance(command, str):
        return [
            *problems,
            problem(
                "command",
                f"{where} must be a command line string, got {command!r}.",
                "Use e.g. 'clearsessions' or 'mycommand --flag value'.",
            ),
        ]
    try:
        words = shlex.split(command)
    except ValueError as exc:
        return [
            *problems,
            problem(
                "command",
                f"{where} {command!r} cannot be split into words: {exc}.",
                "Close the quotes in the command line.",
            ),
        ]
    if not words or words[0] not in get_commands():
        name = words[0] if words else ""
        problems.append(
            problem(
                "command",
                f"{where} {command!r}: {name!r} is not a management command.",
                "Use the name of a command listed by 'manage.py help' (without 'manage.py').",
            )
        )
    return problems
