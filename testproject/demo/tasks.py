"""Sample tasks for the demo: each shows one feature of django_solidq.

Tasks are plain functions decorated with Django's ``@task``; the ``TASKS`` setting makes
``django_solidq.backend.SolidQueueBackend`` store them as jobs that ``manage.py runjobs`` runs.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time

from django.tasks import TaskContext, task

logger = logging.getLogger(__name__)


class DemoError(Exception):
    """Raised on purpose by ``always_fails``."""


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


@task(takes_context=True)
def flaky(context: TaskContext, chance: float = 0.5) -> dict[str, object]:
    """Gets the TaskContext (its result id and attempt number) as its first argument."""
    if random.random() < chance:
        raise DemoError(f"unlucky on attempt {context.attempt}")
    return {"result_id": context.task_result.id, "attempt": context.attempt}
