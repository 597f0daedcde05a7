"""What every queue model shares: the queue database and its transactions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connections, models, transaction

from django_solidq.conf import queue_database

M = TypeVar("M", bound=models.Model)


@contextmanager
def queue_atomic() -> Iterator[str]:
    """A transaction on the queue database; yields its alias.

    On SQLite the outermost block begins with ``BEGIN IMMEDIATE`` so that a claim takes the
    write lock before it reads: two workers can then never pick the same ready row, and a
    busy database makes the second one wait (busy timeout) instead of failing at upgrade.
    """
    using = queue_database()
    connection = connections[using]
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with transaction.atomic(using=using):
            yield using
        return
    connection.ensure_connection()
    previous = connection.transaction_mode  # type: ignore[attr-defined]
    connection.transaction_mode = "IMMEDIATE"  # type: ignore[attr-defined]
    try:
        with transaction.atomic(using=using):
            yield using
    finally:
        connection.transaction_mode = previous  # type: ignore[attr-defined]


class QueueQuerySet(models.QuerySet[M]):
    """Base queryset: all queue tables live on ``SOLIDQ['DATABASE']``."""


class QueueManager(models.Manager[M]):
    """Routes every query of a queue model to the queue database explicitly."""

    def get_queryset(self) -> models.QuerySet[M]:
        return self._queryset_class(model=self.model, using=queue_database(), hints=self._hints)


def vendor() -> str:
    return connections[queue_database()].vendor


def on_commit(func: Any) -> None:
    transaction.on_commit(func, using=queue_database())
