"""Tasks shared by both backends. ``@task`` takes the task class of whichever backend the
settings module in use configures as ``default`` (django_solidq's or django-tasks-db's)."""

from __future__ import annotations

import time

from django.tasks import task


@task
def noop() -> None:
    """Does nothing: a drain of these measures pure queue overhead."""


@task
def stamp() -> float:
    """Returns the wall clock when it started: enqueue -> start latency."""
    return time.time()


@task
def sleeper(seconds: float) -> float:
    """Sleeps; returns when it started (the kill -9 recovery test)."""
    started = time.time()
    time.sleep(seconds)
    return started
