"""Middleware around every job (``SOLIDQ["MIDDLEWARE"]``): Active Job's ``around_perform`` in
``ApplicationJob``. A middleware is a factory, as in Django: ``factory(perform)`` returns a
callable taking the job's ``TaskResult``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.tasks import TaskResult

from .services import error_tracker, metrics

Perform = Callable[[TaskResult], Any]


def track_metrics(perform: Perform) -> Perform:
    def middleware(result: TaskResult) -> Any:
        tags = [f"job:{result.task.name}"]
        start = time.monotonic()
        try:
            value = perform(result)
        except Exception as exc:
            metrics.increment("jobs.failure", tags=[*tags, f"error:{type(exc).__name__}"])
            raise
        metrics.increment("jobs.success", tags=tags)
        metrics.timing("jobs.duration", time.monotonic() - start, tags=tags)
        return value

    return middleware


def track_errors(perform: Perform) -> Perform:
    def middleware(result: TaskResult) -> Any:
        try:
            return perform(result)
        except Exception as exc:
            error_tracker.notify(exc, job=result.task.name, arguments=result.args)
            raise  # the task's retry_on / discard_on rules still apply

    return middleware
