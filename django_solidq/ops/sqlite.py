"""SQLite: one writer at a time, so a transition takes the write lock before it reads.

Threads of one process that want to write (a worker's claim loop, its finisher, its job threads
recording failures) queue on a lock of the process first: SQLite's busy handler waits by
sleeping (1, 2, 5, 10… ms), so writers of one process racing for the file's lock would sleep
through most of the moments it is free. Only the transactions of other processes are waited
for by the busy timeout."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections, transaction

from .portable import PortableOps

_writers: dict[str, threading.Lock] = {}
_writers_lock = threading.Lock()


def writer_lock(using: str) -> threading.Lock:
    """The lock this process's queue transactions on ``using`` take before ``BEGIN``."""
    with _writers_lock:
        return _writers.setdefault(using, threading.Lock())


class SqliteOps(PortableOps):
    vendor = "sqlite"

    @contextmanager
    def atomic(self, using: str) -> Iterator[str]:
        """The outermost transaction begins with ``BEGIN IMMEDIATE``: a claim then holds the
        write lock before it reads, so two workers can never pick the same ready row, and a
        busy database makes the second wait (busy timeout) instead of failing at upgrade."""
        connection: Any = connections[using]
        if connection.in_atomic_block:
            with transaction.atomic(using=using, savepoint=False):
                yield using
            return
        connection.ensure_connection()
        previous = connection.transaction_mode
        connection.transaction_mode = "IMMEDIATE"
        try:
            with writer_lock(using), transaction.atomic(using=using):
                yield using
        finally:
            connection.transaction_mode = previous
