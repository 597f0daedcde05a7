"""Perform one claimed job: resolve its task, call it, record the outcome, send signals.

A job's failure is the job's, never the worker's: every exception a task raises (or its
import raises) ends as a recorded failed attempt.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import close_old_connections
from django.tasks import Task, TaskContext, TaskResult, TaskResultStatus
from django.tasks.signals import task_finished, task_started
from django.utils.json import normalize_json

from django_solidq.arguments import normalize_arguments
from django_solidq.backend import SolidQueueBackend
from django_solidq.conf import get_config
from django_solidq.errors import exception_entry
from django_solidq.models import Job
from django_solidq.results import load_task, to_result

logger = logging.getLogger("django_solidq.worker")


def perform(job: Job, worker_id: str) -> TaskResult | None:
    """Run a claimed job to its outcome. Returns the final result (None if the claim was lost)."""
    claim = job.claimed
    assert claim is not None, "perform() needs a claimed job"
    try:
        task = load_task(job)
    except Exception as exc:
        claim.fail(job, exception_entry(exc, worker_id), worker_id)
        logger.error("Job %s failed: %s", job.pk, exc)
        return None
    result = to_result(job, task, running_worker=worker_id)
    task_started.send(SolidQueueBackend, task_result=result)
    try:
        value = _call(task, result)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit too: a job's exit is the job's failure
        return _failed(job, task, exc, worker_id)
    return _finished(job, task, value, worker_id)


def _call(task: Task, result: TaskResult) -> Any:
    if task.takes_context:
        value = task.call(TaskContext(task_result=result), *result.args, **result.kwargs)
    else:
        value = task.call(*result.args, **result.kwargs)
    _, checked = normalize_arguments(task.module_path, [], {"return value": value})
    return checked["return value"]


def _finished(job: Job, task: Task, value: Any, worker_id: str) -> TaskResult | None:
    claim = job.claimed
    assert claim is not None
    preserve = get_config().preserve_finished_jobs
    if not claim.finish(job, normalize_json(value), worker_id, preserve):
        logger.warning("Job %s finished after its claim was recovered; ignoring", job.pk)
        return None
    result = to_result(job, task, status=TaskResultStatus.SUCCESSFUL)
    task_finished.send(SolidQueueBackend, task_result=result)
    return result


def _failed(job: Job, task: Task, exc: BaseException, worker_id: str) -> TaskResult | None:
    claim = job.claimed
    assert claim is not None
    if not claim.fail(job, exception_entry(exc, worker_id), worker_id):
        return None
    result = to_result(job, task, status=TaskResultStatus.FAILED)
    task_finished.send(SolidQueueBackend, task_result=result)
    return result


def perform_in_thread(job: Job, worker_id: str) -> TaskResult | None:
    """``perform`` for a pool thread: it owns its database connection for the job's life."""
    close_old_connections()
    try:
        return perform(job, worker_id)
    finally:
        close_old_connections()
