"""Job rows -> ``django.tasks.TaskResult``."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.tasks import Task, TaskResult, TaskResultStatus, task_backends
from django.tasks.base import TaskError
from django.tasks.exceptions import InvalidTask
from django.utils.module_loading import import_string

from .exceptions import TaskImportError
from .models import Job


def _cannot_be_imported(*args: Any, **kwargs: Any) -> None:
    raise TaskImportError("This job's task cannot be imported; see its task's error.")


@dataclass(frozen=True, slots=True, kw_only=True)
class UnimportableTask(Task):
    """Stands for a job's task that no longer imports (its module is gone or broken), so that
    ``get_result`` still returns the job's result. ``module_path`` is the job's task path,
    ``error`` says why it cannot be imported; calling it raises ``TaskImportError``."""

    path: str = ""
    error: str = ""

    def __post_init__(self) -> None:
        pass  # nothing to validate: it never runs

    @property
    def module_path(self) -> str:
        return self.path

    @property
    def name(self) -> str:
        return self.path.rpartition(".")[2]


def load_task(job: Job) -> Task:
    """The Task a job runs, with the job's own queue, priority and run_after."""
    try:
        task = import_string(job.task_path)
    except Exception as exc:  # ImportError, or whatever the module raised (SyntaxError…)
        raise TaskImportError(
            f"Task {job.task_path!r} of job {job.pk} cannot be imported: {exc}. "
            "Restore the task or discard the job."
        ) from exc
    if not isinstance(task, Task):
        raise TaskImportError(
            f"{job.task_path!r} of job {job.pk} is a {type(task).__name__}, not a Task. "
            "Decorate it with @task or discard the job."
        )
    run_after = job.next_run_at()
    if run_after is not None:
        return task.using(
            queue_name=job.queue_name,
            priority=job.priority,
            run_after=run_after,
            backend=job.backend,
        )
    # A worker loads the same few tasks with the same options over and over: a copy made
    # with ``using`` is validated by its backend, which costs more than the job's
    # bookkeeping. Reuse it while the task and the backend are the same objects (settings
    # changes make new backends). Each thread has its own backend objects (Django's
    # handler is context-local), so each thread keeps its own copies: shared, a worker's
    # threads would evict each other's on every job.
    backend = task_backends[job.backend]
    loaded_here = _per_thread.loaded
    key = (job.task_path, job.queue_name, job.priority, job.backend)
    known = loaded_here.get(key)
    if known is not None and known[0] is task and known[1] is backend:
        return known[2]
    loaded = task.using(queue_name=job.queue_name, priority=job.priority, backend=job.backend)
    if len(loaded_here) >= LOADED_MAX:
        loaded_here.clear()
    loaded_here[key] = (task, backend, loaded)
    return loaded


LOADED_MAX = 256


class _Loaded(threading.local):
    """Each thread's task copies: (task path, queue, priority, backend alias) -> (imported
    task, the thread's backend, the job's task)."""

    def __init__(self) -> None:
        self.loaded: dict[tuple[str, str, int, str], tuple[Task, Any, Task]] = {}


_per_thread = _Loaded()


def _task_or_stand_in(job: Job) -> Task:
    try:
        return load_task(job)
    except (TaskImportError, InvalidTask) as exc:  # gone, broken, or its queue now refused
        return UnimportableTask(
            func=_cannot_be_imported,
            path=job.task_path,
            error=str(exc),
            queue_name=job.queue_name,
            priority=job.priority,
            run_after=job.scheduled_at,
            backend=job.backend,
        )


def status_of(job: Job) -> TaskResultStatus:
    if job.claimed is not None:
        return TaskResultStatus.RUNNING
    if job.execution("failedexecution") is not None:
        return TaskResultStatus.FAILED
    if job.finished_at is not None:
        return TaskResultStatus.FAILED if job.discarded_at else TaskResultStatus.SUCCESSFUL
    return TaskResultStatus.READY


def _failed_at(job: Job) -> datetime | None:
    failed = job.execution("failedexecution")
    return failed.created_at if failed is not None else None


def new_result(job: Job, task: Task, status: TaskResultStatus) -> TaskResult:
    """``to_result`` of a job this process just built and enqueued: no attempt made, no
    execution row loaded, so nothing to look up (the enqueue path builds one per job)."""
    result: TaskResult = TaskResult(
        task=task,
        id=str(job.pk),
        status=status,
        enqueued_at=job.enqueued_at,
        started_at=None,
        finished_at=job.finished_at,
        last_attempted_at=None,
        args=job.args,
        kwargs=job.kwargs,
        backend=job.backend,
        errors=[
            TaskError(exception_class_path=e["exception_class_path"], traceback=e["traceback"])
            for e in job.errors
        ],
        worker_ids=[],
    )
    object.__setattr__(result, "_return_value", None)
    return result


def to_result(
    job: Job,
    task: Task | None = None,
    running_worker: str | None = None,
    status: TaskResultStatus | None = None,
) -> TaskResult:
    """The TaskResult for a job (executions joined; ``running_worker`` names its claimer).

    ``status`` is given by callers that just ended an attempt and know the outcome.
    """
    claimed = None if status else job.claimed
    worker_ids = list(job.worker_ids)
    if claimed is not None:
        worker_ids.append(running_worker or f"process-{claimed.process_id}")
    result: TaskResult = TaskResult(
        task=task or _task_or_stand_in(job),
        id=str(job.pk),
        status=status or status_of(job),
        enqueued_at=job.enqueued_at,
        started_at=job.started_at or (claimed.created_at if claimed else None),
        finished_at=job.finished_at or _failed_at(job),
        last_attempted_at=claimed.created_at if claimed else job.last_attempted_at,
        args=job.args,
        kwargs=job.kwargs,
        backend=job.backend,
        errors=[
            TaskError(exception_class_path=e["exception_class_path"], traceback=e["traceback"])
            for e in job.errors
        ],
        worker_ids=worker_ids,
    )
    object.__setattr__(result, "_return_value", job.return_value)
    return result
