"""PostgreSQL: enqueue, bulk enqueue, claim, finish and the permit hand-over, each in ONE
statement, and LISTEN/NOTIFY wake-ups.

Data-modifying CTEs move a job between tables atomically in a single round trip (and a single
commit), where the portable ORM path takes five or six; the semantics are the portable ones
(``tests/models/test_postgres_parity.py`` runs both on the same sequences). Table and column names
come from the querysets' models.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.models.base import ModelState

from django_solidq.conf import get_config

from .portable import CHANNEL, PortableOps, size_batches
from .prepared import statement_cursor
from .rows import mark_saved

# Bytes of rows per bulk statement: a column's array goes as one text parameter, which
# PostgreSQL caps at 1 GB.
BULK_BYTES = 64_000_000
ARRAY_TYPES = {
    "UUIDField": "uuid",
    "CharField": "text",
    "SmallIntegerField": "smallint",
    "JSONField": "jsonb",
    "DateTimeField": "timestamptz",
}


class PostgresOps(PortableOps):
    vendor = "postgresql"

    def notify_ready(self, using: str) -> None:
        if get_config().listen_notify:
            with connections[using].cursor() as cursor:
                cursor.execute(f"NOTIFY {CHANNEL}")

    def _notify_sql(self) -> str:
        return notify_sql(get_config().listen_notify)

    def enqueue(self, jobs: Any, job: Any) -> None:
        """Insert the job and its ready (or scheduled) row, and NOTIFY workers, at once."""
        sql, fields = enqueue_sql(jobs.model, job.is_due(), get_config().listen_notify)
        with statement_cursor(jobs.db, hot=False) as cursor:
            cursor.execute(sql, [convert(getattr(job, name)) for name, convert in fields])
        mark_saved(job, jobs.db)

    def enqueue_all(
        self, jobs: Any, ready: Any, scheduled: Any, plain: Sequence[Any], now: datetime
    ) -> None:
        """Insert many jobs and their ready or scheduled rows in one statement per 10,000
        (or per ``BULK_BYTES`` of rows): each column is sent as one array parameter and
        unnested on the server, in order."""
        for batch in size_batches(plain, 10_000, BULK_BYTES):
            self._enqueue_batch(jobs, ready, scheduled, batch)
        for job in plain:
            mark_saved(job, jobs.db)

    def _enqueue_batch(self, jobs: Any, ready: Any, scheduled: Any, batch: Sequence[Any]) -> None:
        fields = new_job_fields(jobs.model)
        columns = ", ".join(f.column for f in fields)
        types = [ARRAY_TYPES[f.get_internal_type()] for f in fields]
        # JSON goes as text and is cast on the server: Django's per-value adapters cost more
        # than the insert itself at bulk sizes.
        arrays = ", ".join(array_cast(kind) for kind in types)
        params = [array_param(batch, f, t) for f, t in zip(fields, types, strict=True)]
        due = "(scheduled_at IS NULL OR scheduled_at <= now())"
        sql = f"""
            WITH input AS (
                SELECT * FROM unnest({arrays}) WITH ORDINALITY AS t({columns}, n)
            ), j AS (
                INSERT INTO {jobs.model._meta.db_table} ({columns})
                SELECT {columns} FROM input ORDER BY n RETURNING 1
            ), r AS (
                INSERT INTO {ready.model._meta.db_table} (job_id, queue_name, priority, created_at)
                SELECT id, queue_name, priority, now() FROM input WHERE {due} ORDER BY n
                RETURNING 1
            ), s AS (
                INSERT INTO {scheduled.model._meta.db_table}
                    (job_id, queue_name, priority, scheduled_at, created_at)
                SELECT id, queue_name, priority, scheduled_at, now() FROM input WHERE NOT {due}
                ORDER BY n RETURNING 1
            )
            SELECT (SELECT count(*) FROM j), (SELECT count(*) FROM r), (SELECT count(*) FROM s)
        """
        with statement_cursor(jobs.db, hot=False) as cursor:
            cursor.execute(sql, params)
            _, became_ready, _ = cursor.fetchone()
        if became_ready:
            self.notify_ready(jobs.db)

    def claim(
        self,
        ready: Any,
        claimed: Any,
        jobs: Any,
        selectors: Sequence[str],
        limit: int,
        process_id: int | None,
    ) -> list[Any]:
        found: list[Any] = []
        for selector in selectors:
            found += self._claim(ready, claimed, jobs, selector, limit - len(found), process_id)
            if len(found) >= limit:
                break
        return found

    def _claim(
        self, ready: Any, claimed: Any, jobs: Any, selector: str, limit: int, process_id: int | None
    ) -> list[Any]:
        """Lock, delete and claim up to ``limit`` ready rows of one selector; the jobs (claim
        attached) in claim order."""
        condition, params = queue_condition(selector)
        sql, names, json_columns = claim_sql(ready, claimed.model, jobs.model, condition)
        using = ready.db
        with statement_cursor(using) as cursor:
            cursor.execute(sql, [*params, limit, process_id])
            rows = cursor.fetchall()
        found = []
        for row in rows:
            job = loaded(jobs.model, names, row, json_columns, using)
            claim = loaded(claimed.model, CLAIM_FIELDS, (row[-2], job.pk, process_id, row[-1]))
            mark_saved(claim, using)
            # What ``job.claimedexecution = claim`` does, without its checks (a hot path):
            job._state.fields_cache["claimedexecution"] = claim
            claim._state.fields_cache["job"] = job
            found.append(job)
        return found

    def finish(
        self, claims: Any, jobs: Any, done: Sequence[Any], fields: Sequence[str], preserve: bool
    ) -> set[str]:
        """Delete the claims of ``done`` and write their outcome fields (or delete the jobs), in
        one statement."""
        claim_ids = [job.claimed.id for job in done if job.claimed]
        claims_table, jobs_table = claims.model._meta.db_table, jobs.model._meta.db_table
        returning = (
            f"WITH done AS (DELETE FROM {claims_table} WHERE id = ANY(%s::bigint[]) "
            "RETURNING job_id) "
        )
        # Every value goes in one array literal per column (as enqueue_all sends them):
        # psycopg's per-value adapters cost more than the statement at a worker's batch sizes.
        params: list[Any] = [array_literal(claim_ids, quote=False)]
        if not preserve:
            sql = returning + (
                f"DELETE FROM {jobs_table} WHERE id IN (SELECT job_id FROM done) RETURNING id"
            )
        else:
            meta = jobs.model._meta
            columns = [meta.get_field(name) for name in fields]
            kinds = [ARRAY_TYPES[f.get_internal_type()] for f in columns]
            names = [f.column for f in columns]
            arrays = ", ".join(["%s::uuid[]", *(array_cast(kind) for kind in kinds)])
            assignments = ", ".join(f"{n} = v.{n}" for n in names)
            sql = returning + (
                f"UPDATE {jobs_table} AS j SET {assignments} "
                f"FROM unnest({arrays}) AS v(id, {', '.join(names)}) "
                "WHERE j.id = v.id AND j.id IN (SELECT job_id FROM done) RETURNING j.id"
            )
            params.append(array_literal([job.pk for job in done], quote=False))
            params += [array_param(done, f, k) for f, k in zip(columns, kinds, strict=True)]
        with statement_cursor(jobs.db) as cursor:
            cursor.execute(sql, params)
            return {str(row[0]) for row in cursor.fetchall()}

    def hand_over(self, blocked: Any, ready: Any, key: str) -> bool:
        """The next blocked job of ``key`` moved to ready (and workers told), in one statement."""
        blocked_table, ready_table = blocked.model._meta.db_table, ready.model._meta.db_table
        sql = f"""
            WITH next AS (
                SELECT id FROM {blocked_table} WHERE concurrency_key = %s
                ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED
            ), moved AS (
                DELETE FROM {blocked_table} b USING next WHERE b.id = next.id
                RETURNING b.job_id, b.queue_name, b.priority
            ), ready AS (
                INSERT INTO {ready_table} (job_id, queue_name, priority, created_at)
                SELECT job_id, queue_name, priority, now() FROM moved RETURNING 1
            )
            SELECT count(*), count({self._notify_sql()}) FROM ready
        """
        with statement_cursor(blocked.db) as cursor:
            cursor.execute(sql, [key])
            row = cursor.fetchone()
            return bool(row and row[0])


_claim_sql: dict[tuple[Any, ...], tuple[str, list[str], list[int]]] = {}


def claim_sql(
    ready: Any, claimed: Any, jobs: Any, condition: str
) -> tuple[str, list[str], list[int]]:
    """The claim statement of a queue condition, the job attributes in its rows' order and
    which of them are JSON (built once per condition: a worker claims many times a second)."""
    key = (ready.model, claimed, jobs, condition)
    if key not in _claim_sql:
        pauses = ready.paused_queues().model._meta.db_table
        fields = jobs._meta.concrete_fields
        names = [f.attname for f in fields]
        columns = ", ".join(f"j.{f.column}" for f in fields)
        json_columns = [i for i, f in enumerate(fields) if is_json(f)]
        sql = f"""
            WITH picked AS (
                SELECT id, job_id, priority FROM {ready.model._meta.db_table}
                WHERE {condition} AND queue_name NOT IN (SELECT queue_name FROM {pauses})
                ORDER BY priority DESC, id LIMIT %s FOR UPDATE SKIP LOCKED
            ), removed AS (
                DELETE FROM {ready.model._meta.db_table} r USING picked WHERE r.id = picked.id
                RETURNING picked.id AS ready_id, picked.job_id, picked.priority
            ), claimed AS (
                INSERT INTO {claimed._meta.db_table} (job_id, process_id, created_at)
                SELECT job_id, %s, now() FROM removed RETURNING id, job_id, created_at
            )
            SELECT {columns}, claimed.id, claimed.created_at
            FROM claimed JOIN removed ON removed.job_id = claimed.job_id
            JOIN {jobs._meta.db_table} j ON j.id = claimed.job_id
            ORDER BY removed.priority DESC, removed.ready_id
        """
        _claim_sql[key] = (sql, names, json_columns)
    return _claim_sql[key]


@functools.cache
def enqueue_sql(model: Any, due: bool, notify: bool) -> tuple[str, list[tuple[str, Any]]]:
    """The single-job enqueue statement, and per column its attribute and converter
    (built once: a single enqueue is a round trip and little else)."""
    fields = new_job_fields(model)
    columns = ", ".join(f.column for f in fields)
    values = ", ".join("%s::jsonb" if is_json(f) else "%s" for f in fields)
    ready, scheduled = table_of(model, "readyexecution"), table_of(model, "scheduledexecution")
    if due:
        execution = (
            f"INSERT INTO {ready} (job_id, queue_name, priority, created_at) "
            "SELECT id, queue_name, priority, now() FROM j RETURNING 1"
        )
        tail = f"SELECT {notify_sql(notify)} FROM e"
    else:
        execution = (
            f"INSERT INTO {scheduled} (job_id, queue_name, priority, scheduled_at, created_at) "
            "SELECT id, queue_name, priority, scheduled_at, now() FROM j RETURNING 1"
        )
        tail = "SELECT 1 FROM e"
    insert = (
        f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({values}) "
        "RETURNING id, queue_name, priority, scheduled_at"
    )
    converters = [(f.attname, converter_of(f)) for f in fields]
    return f"WITH j AS ({insert}), e AS ({execution}) {tail}", converters


def notify_sql(notify: bool) -> str:
    return f"pg_notify('{CHANNEL}', '')" if notify else "NULL"


CLAIM_FIELDS = ("id", "job_id", "process_id", "created_at")


def loaded(
    model: Any,
    names: Sequence[str],
    row: Sequence[Any],
    json_columns: Sequence[int] = (),
    using: str | None = None,
) -> Any:
    """A model instance from a row of its columns (``names``: attribute names in the row's
    order), as Django loads one from the database, without ``Model.__init__``'s per-field
    work; JSON columns (text, as Django's psycopg loader returns them) are decoded."""
    values = list(row[: len(names)])
    for index in json_columns:
        value = values[index]
        if value is not None:
            # the empty list and dict most columns of a new job hold, without the decoder
            values[index] = [] if value == "[]" else {} if value == "{}" else json.loads(value)
    obj = model.__new__(model)
    obj.__dict__.update(zip(names, values, strict=True))
    obj._state = ModelState()
    if using is not None:
        mark_saved(obj, using)
    return obj


def table_of(model: Any, relation: str) -> str:
    """The table of the model on the other side of ``relation`` (e.g. ``readyexecution``)."""
    return str(model._meta.get_field(relation).related_model._meta.db_table)


def new_job_fields(model: Any) -> list[Any]:
    """The columns a new plain job is inserted with: every concrete field but those a new job
    always leaves empty (``Job.EMPTY_WHEN_NEW``; the fast paths store plain jobs only)."""
    return [f for f in model._meta.concrete_fields if f.attname not in model.EMPTY_WHEN_NEW]


def is_json(field: Any) -> bool:
    return field.get_internal_type() == "JSONField"


def converter_of(field: Any) -> Any:
    """How a column's value goes to psycopg (UUIDs, datetimes and text natively; JSON as
    text; the priority as an int, as Django stores an integral 5.0)."""
    if is_json(field):
        return json_text
    if field.get_internal_type() == "SmallIntegerField":
        return int
    return _as_is


def _as_is(value: Any) -> Any:
    return value


def array_cast(kind: str) -> str:
    """The placeholder of an array parameter of ``kind`` (JSON goes as text, cast on the
    server)."""
    return f"%s::text[]::{kind}[]" if kind == "jsonb" else f"%s::{kind}[]"


def array_param(jobs: Sequence[Any], field: Any, kind: str) -> str:
    """One column of ``jobs`` as an array literal. A None JSON value is SQL NULL, as Django
    stores it, not JSON ``null``."""
    if kind == "jsonb":
        values = [getattr(job, field.attname) for job in jobs]
        return array_literal([None if v is None else json_text(v) for v in values])
    if kind == "smallint":
        # Django accepts an integral float or Decimal priority (5.0): store it as 5.
        return array_literal([int(getattr(job, field.attname)) for job in jobs], quote=False)
    values = [getattr(job, field.attname) for job in jobs]
    return array_literal(values, quote=kind != "uuid")


def array_literal(values: Sequence[Any], quote: bool = True) -> str:
    """``values`` as one PostgreSQL array literal, ``{"a","b",NULL}``, sent as a single text
    parameter: psycopg's list dumper checks every element with a regex in Python, which costs
    more than the insert at bulk sizes. ``quote=False`` for values whose text needs no quoting
    (UUIDs, integers)."""
    if not quote:
        return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"
    quoted = (
        "NULL" if v is None else '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
        for v in values
    )
    return "{" + ",".join(quoted) + "}"


def json_text(value: Any) -> str:
    """``json.dumps(value)``, with the empty list and dict every new job carries (errors,
    worker ids, retry counters, often its arguments) written without calling it."""
    if not value and type(value) is list:
        return "[]"
    if not value and type(value) is dict:
        return "{}"
    return json.dumps(value)


def queue_condition(selector: str) -> tuple[str, list[Any]]:
    """SQL for one queue selector: ``*`` every queue, ``mail*`` a prefix, else one queue."""
    if selector == "*":
        return "TRUE", []
    if selector.endswith("*"):
        prefix = selector[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return "queue_name LIKE %s", [prefix + "%"]
    return "queue_name = %s", [selector]
