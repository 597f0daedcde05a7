"""Sample tasks for the demo: each shows one feature of django_solidq.

Tasks are plain functions decorated with Django's ``@task``; the ``TASKS`` setting makes
``django_solidq.backend.SolidQueueBackend`` store them as jobs that ``manage.py runjobs`` runs.
"""

from __future__ import annotations

import asyncio
import logging
import time

from django.tasks import TaskContext, task

from django_solidq import retry_on

logger = logging.getLogger(__name__)


class DemoError(Exception):
    """Raised on purpose by ``always_fails`` and by ``flaky``'s first attempt."""


@task
def add(a: int, b: int) -> int:
    """Returns a value: see it in the job's result (``get_result(id).return_value``)."""
    return a + b


@task
def always_fails(reason: str = "this task fails on purpose") -> None:
    """Raises: the job ends up failed, with the exception and traceback kept."""
    raise DemoError(reason)


@task
def slow(seconds: float = 5.0) -> str:
    """Sleeps a while, so you can watch it being claimed by a worker thread."""
    time.sleep(seconds)
    return f"slept {seconds}s"


@task
async def fetch_title(page: int) -> str:
    """An ``async def`` task: the worker runs it in an event loop."""
    await asyncio.sleep(0.5)
    return f"Title of page {page}"


@task(priority=50)
def urgent_report(name: str) -> str:
    """Enqueued with a higher priority than the default (0): picked before other ready jobs."""
    return f"report {name} done"


@task(queue_name="mail")
def send_welcome_email(user_id: int) -> str:
    """Goes to the "mail" queue (the demo's worker polls every queue: ``queues: ["*"]``)."""
    logger.info("pretending to send a welcome email to user %s", user_id)
    return f"mail sent to user {user_id}"


@task
def reminder(text: str) -> str:
    """Enqueued with ``.using(run_after=timedelta(...))``: scheduled, then run when due."""
    return f"reminder: {text}"


# django-stubs' task() knows only Django's own options; Django passes the others (here
# retry_on) to the backend's task class, SolidTask.
@task(  # type: ignore[call-overload]
    takes_context=True, retry_on=[retry_on(DemoError, wait=5, attempts=3, jitter=0)]
)
def flaky(context: TaskContext) -> dict[str, object]:
    """Fails on its first attempt and succeeds on the second, which its retry rule runs 5 s
    later (the same every run). Gets the TaskContext (its result id and attempt number) as
    its first argument."""
    if context.attempt == 1:
        raise DemoError("fails on its first attempt, on purpose")
    return {"attempt": context.attempt, "result_id": context.task_result.id}
