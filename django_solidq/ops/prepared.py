"""PostgreSQL cursors for the workers' hot statements, which the server plans once per
connection.

Django's psycopg cursors bind parameters on the client, so PostgreSQL parses and plans every
statement anew: for the claim's data-modifying CTE, planning takes longer than running it
(``docs/benchmarks.md``, "Prepared statements"). The statements a worker runs for every batch
(claim, finish, the permit hand-over) go through a cursor that prepares them on first use and
reuses the plan after. It is Django's own cursor wrapper around a psycopg server-binding cursor,
so query logging, ``execute_wrapper`` hooks and error translation all still apply.

Enqueue runs in web processes, often behind a transaction pooler: with the setting on, it is
prepared only where the database also opts in, as Django does (a connection OPTION
``prepare_threshold``).

Off by default, as in Django: behind a transaction pooler that cannot keep prepared
statements (PgBouncer before 1.21, or ``max_prepared_statements = 0``) the next transaction
runs on another server connection, where the statement is missing — or where another client's
statement has the same name. ``SOLIDQ["PREPARED_STATEMENTS"] = True`` turns it on where the
workers connect directly (or through a pooler that keeps them). Should a statement go missing
even so, the first such error turns preparing off in this process for that database, with a
warning, and the statement is run again unprepared where nothing was in progress (else the
error is raised as an ``OperationalError``, which the queue's writes retry).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.db import connections

from django_solidq.conf import get_config

logger = logging.getLogger("django_solidq.worker")

# sqlstates of a prepared statement missing on (or already on, or another client's on) the
# server connection
POOLER_ERRORS = frozenset({"26000", "42P05", "08P01"})

# the threshold lent to a connection for a hot statement (which asks to be prepared anyway)
HOT_THRESHOLD = 1_000_000

_turned_off: set[str] = set()  # aliases on which a pooler lost a prepared statement


def statement_cursor(using: str, hot: bool = True) -> Any:
    """A cursor on ``using`` (a PostgreSQL alias); a plain Django cursor unless
    ``PREPARED_STATEMENTS`` is on. ``hot``: a worker's statement, prepared; else prepared only
    if the connection opts in too (``prepare_threshold``)."""
    connection = connections[using]
    if using in _turned_off or not get_config().prepared_statements:
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if not hot and raw.prepare_threshold is None:
        return connection.cursor()
    module = _django_postgresql()
    with connection.wrap_database_errors:
        cursor = _cursor_class(hot)(raw)
        cursor.alias = using
        # As Django's create_cursor(): the cursor's own time zone only where the
        # connection's differs.
        loader = raw.adapters.get_loader(module.TIMESTAMPTZ_OID, module.Format.TEXT)
        if connection.timezone != loader.timezone:
            module.register_tzloader(connection.timezone, cursor)
        return connection._prepare_cursor(cursor)  # type: ignore[attr-defined]


def turn_off(using: str, error: Exception) -> None:
    if using not in _turned_off:
        _turned_off.add(using)
        logger.warning(
            "Prepared statements do not survive on database %r (%s): a transaction pooler? "
            "Planning each statement from now on; set SOLIDQ['PREPARED_STATEMENTS'] = False "
            "to start that way.",
            using,
            error,
        )


@functools.cache
def _django_postgresql() -> Any:
    """Django's psycopg 3 backend module (its server-binding cursor, time-zone loader)."""
    from django.db.backends.postgresql import base  # late import: psycopg is optional

    return base


@functools.cache
def _cursor_class(hot: bool) -> type:
    base = _django_postgresql()
    psycopg = base.Database

    class StatementCursor(base.ServerBindingCursor):  # type: ignore[name-defined]
        alias = ""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            if not hot:
                return self._execute(query, params, **kwargs)
            # psycopg prepares nothing on a connection whose prepare_threshold is None
            # (Django's default, for the project's own statements): lift it for this one.
            threshold = self.connection.prepare_threshold
            self.connection.prepare_threshold = HOT_THRESHOLD if threshold is None else threshold
            try:
                return self._execute(query, params, prepare=True, **kwargs)
            finally:
                self.connection.prepare_threshold = threshold

        def _execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            try:
                return super().execute(query, params, **kwargs)
            except psycopg.Error as exc:
                if exc.sqlstate not in POOLER_ERRORS:
                    raise
                turn_off(self.alias, exc)
                idle = self.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
                if not idle:  # a transaction was in progress: it failed; its owner retries
                    raise psycopg.OperationalError(str(exc)) from exc
            return super().execute(query, params, **{**kwargs, "prepare": False})

    return StatementCursor
