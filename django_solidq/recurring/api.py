"""Dynamic recurring tasks, from Python: ``schedule_recurring_task`` and
``unschedule_recurring_task`` (the admin saves through them too)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.tasks import Task

from django_solidq.models import RecurringTask

from .commands import dynamic_problems
from .entries import row_fields, static_entries
from .validation import entry_problems


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
    if key in static_entries():
        raise ValueError(
            f"Recurring task {key!r} is defined in settings (static); remove it from "
            "SOLIDQ['RECURRING'] and restart runjobs."
        )
    return RecurringTask.objects.unschedule_dynamic(key)
