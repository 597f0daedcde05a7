"""The call a recurring entry makes: its arguments (JSON, as at enqueue: E018) and its queue,
priority and description (checked by the task's backend as at enqueue: E019)."""

from __future__ import annotations

from typing import Any

from django.tasks import Task
from django.tasks.exceptions import InvalidTask

from django_solidq.arguments import normalize_arguments
from django_solidq.conf import Problem
from django_solidq.exceptions import ArgumentNotSerializable
from django_solidq.models.recurring_task import BY_OPTION

from .targets import solid_task
from .wording import Where, problem


def argument_problems(at: Where, options: dict[str, Any], found: Task | None) -> list[Problem]:
    args = options.get("args", BY_OPTION["args"].default_value())
    kwargs = options.get("kwargs", BY_OPTION["kwargs"].default_value())
    problems: list[Problem] = []
    if not isinstance(args, list | tuple):
        problems.append(
            problem(
                "args",
                f"{at.option('args')} must be a list, got {args!r}.",
                "Use a list of JSON values, e.g. ['weekly', 10].",
            )
        )
    if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
        problems.append(
            problem(
                "kwargs",
                f"{at.option('kwargs')} must be a dict with string keys, got {kwargs!r}.",
                "Use a dict of JSON values, e.g. {'days': 7}.",
            )
        )
    if problems or found is None:
        return problems
    # Each alone first, so that the problem names its option; then both (their total size).
    for option, call in (("args", (args, {})), ("kwargs", ((), kwargs)), ("args", (args, kwargs))):
        try:
            normalize_arguments(found.module_path, *call)
        except ArgumentNotSerializable as exc:
            problems.append(
                problem(
                    option,
                    at.about(str(exc)),
                    "Recurring arguments are stored as JSON: use strings, numbers, booleans, "
                    "None, lists and dicts.",
                )
            )
            break
    return problems + option_problems(at, options, found)


def option_problems(at: Where, options: dict[str, Any], found: Task) -> list[Problem]:
    """queue, priority and description, checked by the task's backend as at enqueue."""
    queue, priority = options.get("queue"), options.get("priority")
    description = options.get("description", BY_OPTION["description"].default_value())
    problems: list[Problem] = []
    if queue is not None and (not isinstance(queue, str) or not queue.strip()):
        problems.append(
            problem(
                "queue",
                f"{at.option('queue')} must be a queue name, got {queue!r}.",
                "Use a non-empty string, or leave 'queue' out for the task's own queue.",
            )
        )
    if priority is not None and (not isinstance(priority, int) or isinstance(priority, bool)):
        problems.append(
            problem(
                "priority",
                f"{at.option('priority')} must be a whole number, got {priority!r}.",
                "Use a number from -100 to 100 (larger runs first), or leave it out.",
            )
        )
    if description is not None and not isinstance(description, str):
        problems.append(
            problem(
                "description",
                f"{at.option('description')} must be a string, got {description!r}.",
                "Describe the task in words, or leave 'description' out.",
            )
        )
    if problems:
        return problems
    # The task's own backend first, then the queue and the priority, each naming its option.
    for option, change in (
        (None, {}),
        ("queue", {"queue": queue}),
        ("priority", {"priority": priority}),
    ):
        if option is not None and change[option] is None:
            continue
        try:
            solid_task(found, **change)
        except (InvalidTask, ValueError) as exc:
            problems.append(
                Problem(
                    "django_solidq.E019",
                    at.about(str(exc)),
                    "Use a priority from -100 to 100 and a queue the backend allows "
                    "(TASKS[...]['QUEUES']).",
                    field=option,
                )
            )
            if option is None:
                break
    return problems
