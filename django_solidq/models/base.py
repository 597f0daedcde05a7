"""What every queue model shares: the queue database and its transactions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.db import connections, models, transaction
from django.db.models import Count
from django.db.models.functions import TruncMinute

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
    if connection.in_atomic_block:
        # Part of a larger transaction (the caller's, or another transition's): no savepoint,
        # which would cost two more round trips; an error fails the whole transaction.
        with transaction.atomic(using=using, savepoint=False):
            yield using
        return
    if connection.vendor != "sqlite":
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
    """Base queryset: every query of a queue table goes to ``SOLIDQ['DATABASE']`` explicitly
    (routers don't steer transactions, so nothing is left to them)."""

    def __init__(
        self,
        model: type[M] | None = None,
        query: Any = None,
        using: str | None = None,
        hints: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(model, query, using or queue_database(), hints)

    def distinct_values(self, field: str, limit: int = 100) -> list[str]:
        """Up to ``limit`` distinct values of an indexed column, smallest first, one indexed
        ``> previous ORDER BY field LIMIT 1`` probe each (a loose index scan), so the cost is
        the number of values, not of rows. For the admin's filters and queue lists."""
        found: list[str] = []
        rows = self.exclude(**{f"{field}__isnull": True}).order_by(field)
        while len(found) < limit:
            probe = rows.filter(**{f"{field}__gt": found[-1]}) if found else rows
            value = probe.values_list(field, flat=True).first()
            if value is None:
                break
            found.append(value)
        return found


def field_named(obj: models.Model, name: str) -> models.Field[Any, Any]:
    field = obj._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def update_each(objs: Sequence[models.Model], fields: Sequence[str], using: str) -> None:
    """``UPDATE … WHERE pk = …`` for each object, sent with ``executemany``.

    Django's ``bulk_update`` builds a CASE expression per object and field, which costs more
    than the database work for the small batches a worker finishes; one parameterised statement
    run for each row (pipelined by psycopg 3) does not.
    """
    if not objs:
        return
    connection = connections[using]
    meta = objs[0]._meta
    columns = [field_named(objs[0], name) for name in fields]
    pk = meta.pk
    assert pk is not None
    quote = connection.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        quote(meta.db_table),
        ", ".join(f"{quote(str(field.column))} = %s" for field in columns),
        quote(str(pk.column)),
    )
    rows = [
        [
            *(field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns),
            pk.get_db_prep_value(obj.pk, connection),
        ]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def vendor() -> str:
    return connections[queue_database()].vendor


def per_minute(rows: models.QuerySet[Any], field: str) -> dict[datetime, int]:
    """How many of ``rows`` fall in each whole minute (UTC) of their ``field``: one grouped
    count (``count(*)``: an index-only scan where the index holds the columns)."""
    counted = (
        rows.annotate(minute=TruncMinute(field, tzinfo=UTC))
        .order_by()
        .values("minute")
        .annotate(n=Count("*"))
        .values_list("minute", "n")
    )
    return dict(counted)
