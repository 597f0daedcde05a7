"""SQLite: one writer at a time, so a transition takes the write lock before it reads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections, transaction

from .portable import PortableOps


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
            with transaction.atomic(using=using):
                yield using
        finally:
            connection.transaction_mode = previous
