"""Celery's calls (delay, apply_async, AsyncResult, group), rewritten (docs/from-celery.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.tasks import TaskResult, default_task_backend
from django.utils import timezone

from django_solidq import enqueue_all

from .tasks import add, send_email


# --8<-- [start:enqueue]
def now() -> TaskResult:
    return add.enqueue(2, 3)  # add.delay(2, 3)


def in_ten_minutes() -> TaskResult:
    # add.apply_async((2, 3), countdown=600)
    return add.using(run_after=timedelta(minutes=10)).enqueue(2, 3)


def at_nine_tomorrow() -> TaskResult:
    # add.apply_async((2, 3), eta=tomorrow_at_nine)
    tomorrow = timezone.localdate() + timedelta(days=1)
    nine = datetime(
        tomorrow.year, tomorrow.month, tomorrow.day, 9, tzinfo=timezone.get_current_timezone()
    )
    return add.using(run_after=nine).enqueue(2, 3)


def elsewhere() -> TaskResult:
    # send_email.apply_async(args, queue="bulk", priority=0)
    return send_email.using(queue_name="bulk", priority=-10).enqueue("ada@example.com", "News")


# --8<-- [end:enqueue]


# --8<-- [start:group]
def sum_many(pairs: list[tuple[int, int]]) -> list[TaskResult]:
    # group(add.s(x, y) for x, y in pairs).apply_async()
    return enqueue_all([add.bind(x, y) for x, y in pairs])


# --8<-- [end:group]


# --8<-- [start:result]
def outcome(result_id: str) -> str:
    # AsyncResult(result_id): state, result, traceback
    result = default_task_backend.get_result(result_id)  # reads the job; never blocks
    if result.status == "SUCCESSFUL":
        return f"done: {result.return_value}"
    if result.status == "FAILED":
        return f"failed: {result.errors[-1].exception_class_path}"
    return f"{result.status.lower()}, attempt {result.attempts}"  # READY or RUNNING


# --8<-- [end:result]
