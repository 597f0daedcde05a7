"""The vendor contract: the few transitions whose best SQL differs by database, behind one
small interface picked once per connection, as Django picks ``connection.ops``.

``ops_for(using)`` returns a ``PostgresOps`` (single-statement transitions with data-modifying
CTEs, LISTEN/NOTIFY wake-ups), a ``SqliteOps`` (``BEGIN IMMEDIATE`` transactions) or the
``PortableOps`` that MariaDB/MySQL use. Models call it with their own querysets: this package
imports no model, and reads table and column names from the querysets' ``_meta``.
"""

from __future__ import annotations

from typing import Any

from django.db import connections

from .portable import CHANNEL, PortableOps
from .postgres import PostgresOps
from .sqlite import SqliteOps

__all__ = ["CHANNEL", "PortableOps", "PostgresOps", "SqliteOps", "ops_for"]

_BY_VENDOR: dict[str, type[PortableOps]] = {"postgresql": PostgresOps, "sqlite": SqliteOps}


def ops_for(using: str) -> PortableOps:
    """The operations of the connection ``using`` (made once per connection object)."""
    connection: Any = connections[using]
    ops = getattr(connection, "solidq_ops", None)
    if ops is None:
        ops = _BY_VENDOR.get(connection.vendor, PortableOps)()
        connection.solidq_ops = ops
    return ops
