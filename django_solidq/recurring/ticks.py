"""Enqueueing a recurring task's job: for a tick of its schedule (``enqueue_tick``, called by
the scheduler) or at once (``run_now``, the admin's "Run now"). The model records the tick
(``RecurringExecution.objects.enqueue``: unique per task and tick, so any number of
schedulers enqueue it once); this module finds the task and goes through the backend."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.tasks import Task, TaskResult
from django.utils.module_loading import import_string

from django_solidq.backend import SolidQueueBackend
from django_solidq.exceptions import TaskImportError
from django_solidq.models import Job, RecurringExecution, RecurringTask

from .builtin import run_command
from .commands import refuse_commands_not_allowed
from .targets import solid_task


def task_call(row: RecurringTask) -> tuple[Task, list[Any], dict[str, Any]]:
    """The task ``row`` enqueues (with its queue and priority, on a SolidQueueBackend) and its
    arguments. A command runs through the built-in ``run_command``. Raises CommandNotAllowed
    for a command line the settings do not allow, whoever wrote the row."""
    refuse_commands_not_allowed(row)
    if row.command is not None:
        return solid_task(run_command, row.queue_name, row.priority), [row.command], {}
    found = import_string(row.task_path or "")
    if not isinstance(found, Task):
        raise TaskImportError(f"Recurring task {row.key!r}: {row.task_path!r} is not a Task.")
    return solid_task(found, row.queue_name, row.priority), list(row.args), dict(row.kwargs)


def enqueue_tick(row: RecurringTask, run_at: datetime) -> Job | None:
    """Enqueue the job of ``row``'s tick ``run_at`` through the backend (``queue_as``,
    argument checks and ``task_enqueued`` apply). None when another scheduler got this tick
    first: nothing is enqueued then."""
    task, args, kwargs = task_call(row)
    backend = task.get_backend()
    assert isinstance(backend, SolidQueueBackend)  # solid_task() made sure of it
    job, task = backend.prepare(task, args, kwargs)
    if not RecurringExecution.objects.enqueue(row.key, run_at, job):
        return None
    backend._enqueued(job, task)  # task_enqueued, as for any enqueue
    return job


def run_now(row: RecurringTask | str) -> TaskResult:
    """Enqueue the job of the recurring task ``row`` (or its key) now, outside its schedule:
    no tick is recorded, so its ticks are not disturbed."""
    if isinstance(row, str):
        row = RecurringTask.objects.get(key=row)
    task, args, kwargs = task_call(row)
    result: TaskResult = task.enqueue(*args, **kwargs)
    return result
