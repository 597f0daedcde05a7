"""PostgreSQL fast paths: enqueue, claim and finish, each in ONE statement.

Data-modifying CTEs let PostgreSQL move a job between tables atomically in a single round
trip (and a single commit), where the portable ORM path takes five or six. Same semantics as
the portable code in the model modules, which MariaDB/MySQL and SQLite use.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import connections

from .base import field_named

if TYPE_CHECKING:
    from .job import Job

READY = "solidq_ready_executions"
SCHEDULED = "solidq_scheduled_executions"
CLAIMED = "solidq_claimed_executions"
BLOCKED = "solidq_blocked_executions"
JOBS = "solidq_jobs"
PAUSES = "solidq_pauses"
INSERT_FIELDS = (
    "id", "backend", "task_path", "queue_name", "priority", "args", "kwargs", "concurrency_key",
    "scheduled_at", "enqueued_at", "errors", "worker_ids", "exception_executions",
)  # fmt: skip


def _prep(job: Job, name: str, using: str) -> Any:
    field = field_named(job, name)
    return field.get_db_prep_save(getattr(job, field.attname), connections[using])


JSON_FIELDS = frozenset({"args", "kwargs", "errors", "worker_ids", "exception_executions"})
# One placeholder per column; JSON goes as text, cast on the server.
VALUES = ", ".join("%s::jsonb" if name in JSON_FIELDS else "%s" for name in INSERT_FIELDS)


def _value(job: Job, name: str) -> Any:
    """A column's value as psycopg takes it (UUIDs, datetimes and text natively; JSON as
    text; the priority as an int, as Django stores an integral 5.0)."""
    value = getattr(job, name)
    if name in JSON_FIELDS:
        return json_text(value)
    if name == "priority":
        return int(value)
    return value


def enqueue(job: Job, using: str, due: bool, notify: bool) -> None:
    """Insert the job and its ready (or scheduled) row, and NOTIFY workers, at once."""
    columns = ", ".join(INSERT_FIELDS)
    params = [_value(job, name) for name in INSERT_FIELDS]
    if due:
        execution = (
            f"INSERT INTO {READY} (job_id, queue_name, priority, created_at) "
            "SELECT id, queue_name, priority, now() FROM j RETURNING 1"
        )
    else:
        execution = (
            f"INSERT INTO {SCHEDULED} (job_id, queue_name, priority, scheduled_at, created_at) "
            "SELECT id, queue_name, priority, scheduled_at, now() FROM j RETURNING 1"
        )
    tail = "SELECT pg_notify('solidq_ready', '') FROM e" if due and notify else "SELECT 1 FROM e"
    insert = (
        f"INSERT INTO {JOBS} ({columns}) VALUES ({VALUES}) "
        "RETURNING id, queue_name, priority, scheduled_at"
    )
    sql = f"WITH j AS ({insert}), e AS ({execution}) {tail}"
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)


ARRAY_TYPES = {
    "UUIDField": "uuid",
    "CharField": "text",
    "SmallIntegerField": "smallint",
    "JSONField": "jsonb",
    "DateTimeField": "timestamptz",
}


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


def enqueue_all(jobs: Sequence[Job], using: str, notify: bool) -> None:
    """Insert many jobs and their ready or scheduled rows in one statement: each column is
    sent as one array parameter and unnested on the server, in the given order."""
    columns = ", ".join(INSERT_FIELDS)
    types = [ARRAY_TYPES[field_named(jobs[0], name).get_internal_type()] for name in INSERT_FIELDS]
    # JSON goes as text and is cast on the server: Django's per-value adapters cost more
    # than the insert itself at bulk sizes.
    arrays = ", ".join(f"%s::text[]::{t}[]" if t == "jsonb" else f"%s::{t}[]" for t in types)
    params = [
        array_literal(
            [json_text(getattr(job, name)) for job in jobs]
            if kind == "jsonb"
            # Django accepts an integral float or Decimal priority (5.0): store it as 5.
            else [int(getattr(job, name)) for job in jobs]
            if kind == "smallint"
            else [getattr(job, name) for job in jobs],
            quote=kind not in ("uuid", "smallint"),
        )
        for name, kind in zip(INSERT_FIELDS, types, strict=True)
    ]
    due = "(scheduled_at IS NULL OR scheduled_at <= now())"
    sql = f"""
        WITH input AS (
            SELECT * FROM unnest({arrays}) WITH ORDINALITY AS t({columns}, n)
        ), j AS (
            INSERT INTO {JOBS} ({columns}) SELECT {columns} FROM input ORDER BY n RETURNING 1
        ), r AS (
            INSERT INTO {READY} (job_id, queue_name, priority, created_at)
            SELECT id, queue_name, priority, now() FROM input WHERE {due} ORDER BY n
            RETURNING 1
        ), s AS (
            INSERT INTO {SCHEDULED} (job_id, queue_name, priority, scheduled_at, created_at)
            SELECT id, queue_name, priority, scheduled_at, now() FROM input WHERE NOT {due}
            ORDER BY n RETURNING 1
        )
        SELECT (SELECT count(*) FROM j), (SELECT count(*) FROM r), (SELECT count(*) FROM s)
    """
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        _, ready, _ = cursor.fetchone()
        if ready and notify:
            cursor.execute("SELECT pg_notify('solidq_ready', '')")


def hand_over(key: str, using: str, notify: bool) -> bool:
    """The next blocked job of ``key`` moved to ready (and workers told), in one statement."""
    sql = f"""
        WITH next AS (
            SELECT id FROM {BLOCKED} WHERE concurrency_key = %s
            ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED
        ), moved AS (
            DELETE FROM {BLOCKED} b USING next WHERE b.id = next.id
            RETURNING b.job_id, b.queue_name, b.priority
        ), ready AS (
            INSERT INTO {READY} (job_id, queue_name, priority, created_at)
            SELECT job_id, queue_name, priority, now() FROM moved RETURNING 1
        )
        SELECT count(*), {"count(pg_notify('solidq_ready', ''))" if notify else "0"} FROM ready
    """
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [key])
        row = cursor.fetchone()
        return bool(row and row[0])


def claim(
    queue_sql: str, queue_params: list[Any], limit: int, process_id: int | None, using: str
) -> list[Job]:
    """Lock, delete and claim up to ``limit`` ready rows of one queue selector; return the jobs
    (claim attached) in claim order."""
    from .claimed_execution import ClaimedExecution
    from .job import Job

    sql = f"""
        WITH picked AS (
            SELECT id, job_id, priority FROM {READY}
            WHERE {queue_sql} AND queue_name NOT IN (SELECT queue_name FROM {PAUSES})
            ORDER BY priority DESC, id LIMIT %s FOR UPDATE SKIP LOCKED
        ), removed AS (
            DELETE FROM {READY} r USING picked WHERE r.id = picked.id
            RETURNING picked.id AS ready_id, picked.job_id, picked.priority
        ), claimed AS (
            INSERT INTO {CLAIMED} (job_id, process_id, created_at)
            SELECT job_id, %s, now() FROM removed RETURNING id, job_id, created_at
        )
        SELECT j.*, claimed.id AS claim_id, claimed.created_at AS claimed_at
        FROM claimed JOIN removed ON removed.job_id = claimed.job_id
        JOIN {JOBS} j ON j.id = claimed.job_id
        ORDER BY removed.priority DESC, removed.ready_id
    """
    jobs = list(Job.objects.raw(sql, [*queue_params, limit, process_id]).using(using))
    for job in jobs:
        extra: Any = job  # the raw query's extra columns: claim_id, claimed_at
        claim = ClaimedExecution(
            id=extra.claim_id, job_id=job.pk, process_id=process_id, created_at=extra.claimed_at
        )
        claim._state.adding = False
        claim._state.db = using
        job._state.db = using
        job.claimedexecution = claim
    return jobs


def finish(jobs: Sequence[Job], fields: Sequence[str], preserve: bool, using: str) -> set[str]:
    """Delete the claims of ``jobs`` and write their outcome fields (or delete the jobs), in
    one statement. Returns the ids of the jobs whose claims were still there."""
    claim_ids = [job.claimed.id for job in jobs if job.claimed]
    if not preserve:
        sql = (
            f"WITH done AS (DELETE FROM {CLAIMED} WHERE id = ANY(%s) RETURNING job_id) "
            f"DELETE FROM {JOBS} WHERE id IN (SELECT job_id FROM done) RETURNING id"
        )
        params: list[Any] = [claim_ids]
    else:
        casts = {f: _cast(jobs[0], f) for f in fields}
        row = "(" + ", ".join(["%s::uuid", *[f"%s::{casts[f]}" for f in fields]]) + ")"
        assignments = ", ".join(f"{f} = v.{f}" for f in fields)
        sql = (
            f"WITH done AS (DELETE FROM {CLAIMED} WHERE id = ANY(%s) RETURNING job_id) "
            f"UPDATE {JOBS} AS j SET {assignments} "
            f"FROM (VALUES {', '.join([row] * len(jobs))}) AS v(id, {', '.join(fields)}) "
            "WHERE j.id = v.id AND j.id IN (SELECT job_id FROM done) RETURNING j.id"
        )
        params = [claim_ids]
        for job in jobs:
            params += [job.pk, *(_prep(job, f, using) for f in fields)]
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return {str(row[0]) for row in cursor.fetchall()}


def _cast(job: Job, name: str) -> str:
    internal = field_named(job, name).get_internal_type()
    return {"JSONField": "jsonb", "DateTimeField": "timestamptz"}.get(internal, "text")


def queue_condition(selector: str) -> tuple[str, list[Any]]:
    """SQL for one queue selector: ``*`` every queue, ``mail*`` a prefix, else one queue."""
    if selector == "*":
        return "TRUE", []
    if selector.endswith("*"):
        prefix = selector[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return "queue_name LIKE %s", [prefix + "%"]
    return "queue_name = %s", [selector]
