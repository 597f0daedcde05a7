"""Retry a queue write through transient database errors (a locked SQLite file, a dropped
connection), so that a busy database delays a job's bookkeeping instead of stranding it.

This retries database writes, not jobs: what follows a job's failure is ``retries.decide``."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import InterfaceError, OperationalError, close_old_connections, connections

from django_solidq import hooks
from django_solidq.conf import queue_database

DELAYS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


def retry_db_write[T](func: Callable[[], T], what: str) -> T | None:
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
