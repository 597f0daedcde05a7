"""Retry a queue write through transient database errors (a locked SQLite file, a dropped
connection), so that a busy database delays a job's bookkeeping instead of stranding it; and
verify an enqueue whose commit reply was lost with its connection."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connections,
)

from django_solidq.conf import queue_database
from django_solidq.models import Job
from django_solidq.runtime import hooks

DELAYS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


def retrying[T](func: Callable[[], T], what: str) -> T | None:
    """``func()``, retried with backoff on transient errors; None (reported) if it never works.

    Inside a caller's transaction nothing can be retried: the error is raised as it is.
    """
    for delay in (*DELAYS, None):
        try:
            return func()
        except (OperationalError, InterfaceError) as exc:
            if connections[queue_database()].in_atomic_block:
                raise
            if delay is None:
                hooks.thread_error(exc, what)
                return None
            close_old_connections()
            time.sleep(delay)
    return None


def enqueue_verified(job: Job) -> Job:
    """``Job.objects.enqueue(job)``, sure of its outcome.

    When the connection fails under it (outside the caller's transaction) the commit may have
    happened or not: the job is looked up by its id. Stored: done. Not stored: enqueued once
    more, and a second failure raised — so an enqueue never raises for a job that will run,
    nor stores it twice."""
    return _verified(lambda: Job.objects.enqueue(job), [job], lambda stored: job)


def enqueue_all_verified(jobs: Sequence[Job]) -> Sequence[Job]:
    """``Job.objects.enqueue_all(jobs)`` (one transaction), verified the same way: any of the
    jobs stored means all were."""

    def found(stored: set[str]) -> list[Job]:
        return [job if str(job.pk) in stored else _duplicate_of(job) for job in jobs]

    return _verified(lambda: Job.objects.enqueue_all(jobs), jobs, found)


def _verified[T](
    enqueue: Callable[[], T], jobs: Sequence[Job], found: Callable[[set[str]], T]
) -> T:
    for again in (False, True):
        try:
            return enqueue()
        except (OperationalError, InterfaceError, IntegrityError) as exc:
            connection = connections[queue_database()]
            if connection.in_atomic_block or (isinstance(exc, IntegrityError) and not again):
                raise  # the caller's transaction decides; an IntegrityError of its own
            connection.close_if_unusable_or_obsolete()
            ids = Job.objects.filter(id__in=[job.pk for job in jobs]).values_list("id", flat=True)
            stored = {str(pk) for pk in ids}
            if stored:
                return found(stored)  # it committed: the reply was lost, not the jobs
            if again:
                raise
    raise AssertionError("unreachable")


def _duplicate_of(job: Job) -> Job:
    """A unique job that an enqueue did not store: the live job holding its key."""
    live = Job.objects.live().filter(unique_key=job.unique_key) if job.unique_key else None
    return (live.first() if live is not None else None) or job
