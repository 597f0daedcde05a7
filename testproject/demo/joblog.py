"""The demo's job log: one line per job outcome, in the admin's words.

Django logs every task start and finish itself (``Task id=... state=SUCCESSFUL``, with
``django.tasks``' status names, and a traceback for each failure). The demo replaces those
lines with one line per outcome that names the job and its state as Mission Control does
(Finished, Failed, Scheduled for a retry), so the console and the admin tell the same story.
Tracebacks are on each job's page in the admin.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.tasks import TaskResult, TaskResultStatus
from django.tasks.signals import task_finished
from django.utils import timezone

from django_solidq.admin.helpers import STATE_LABELS
from django_solidq.signals import task_retried

logger = logging.getLogger("demo.jobs")

FAILED_HINT = "see Failed jobs in the admin for its traceback"


class HideDjangoTaskLines(logging.Filter):
    """Drops django.tasks' per-task lines; the demo's own lines say the same in admin words."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Task id=")


def describe(result: TaskResult) -> str:
    """'add(2, 3) [job 80ff6922]'."""
    args = [repr(a) for a in result.args]
    args += [f"{k}={v!r}" for k, v in result.kwargs.items()]
    call = f"{result.task.name}({', '.join(args)})"
    if len(call) > 60:
        call = call[:57] + "...)"
    return f"{call} [job {str(result.id)[:8]}]"


def took(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return ""
    seconds = (end - start).total_seconds()
    return f" in {seconds * 1000:.0f} ms" if seconds < 1 else f" in {seconds:.1f} s"


def last_error(result: TaskResult) -> str:
    if not result.errors:
        return ""
    line = result.errors[-1].traceback.strip().splitlines()[-1]
    return f": {line}"


def on_purpose(result: TaskResult) -> str:
    """How the demo's own failures are announced: they are meant to fail."""
    if result.errors and result.errors[-1].exception_class_path == "demo.tasks.DemoError":
        return "on purpose; " + FAILED_HINT
    return FAILED_HINT


def on_finished(sender: Any, task_result: TaskResult, **kwargs: Any) -> None:
    result = task_result
    if result.status == TaskResultStatus.SUCCESSFUL:
        value = repr(result.return_value)
        if len(value) > 60:
            value = value[:57] + "..."
        end = result.finished_at
        logger.info(
            "%s %s%s, returned %s",
            describe(result),
            STATE_LABELS["finished"],
            took(result.last_attempted_at, end),
            value,
        )
    elif result.status == TaskResultStatus.FAILED:
        logger.warning(
            "%s %s%s (%s)",
            describe(result),
            STATE_LABELS["failed"],
            last_error(result),
            on_purpose(result),
        )


def on_retried(
    sender: Any,
    task_result: TaskResult,
    exception: BaseException,
    retry_at: datetime,
    **kwargs: Any,
) -> None:
    wait = max(0.0, (retry_at - timezone.now()).total_seconds())
    logger.warning(
        "%s attempt %d raised %s: %s; %s for a retry in %.0f s (its retry_on rule)",
        describe(task_result),
        task_result.attempts,
        type(exception).__name__,
        exception,
        STATE_LABELS["scheduled"],
        wait,
    )


def connect() -> None:
    logging.getLogger("django.tasks").addFilter(HideDjangoTaskLines())
    task_finished.connect(on_finished, dispatch_uid="demo.joblog.finished")
    task_retried.connect(on_retried, dispatch_uid="demo.joblog.retried")
