"""The neutral jobs as ``django.tasks`` tasks: django_solidq, dj-queue and django-tasks-db
each run these under ``benchmarks.peers.django_settings``."""

from __future__ import annotations

from django.tasks import task

from benchmarks.peers import _common


@task
def line(tag: str = "") -> None:
    _common.record_line(tag)


@task
def sleep_line(seconds: float) -> None:
    _common.sleep_line(seconds)


@task
async def async_sleep_line(seconds: float) -> None:
    await _common.async_sleep_line(seconds)


def bound(kind: str, seconds: float = 0.0):  # -> a TaskCall-like (task, args, kwargs)
    """The call of one job of a kind, for bulk APIs that take (task, args, kwargs)."""
    if kind == "line":
        return (line, [], {})
    if kind == "sleep":
        return (sleep_line, [seconds], {})
    return (async_sleep_line, [seconds], {})
