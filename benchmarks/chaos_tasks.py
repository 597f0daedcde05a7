"""The chaos soak's tasks. Each run writes to the ledger, in its own transaction, when it
starts and when it ends (or fails): the ledger is what the soak's checks count.

The ledger is a SQLite file (``CHAOS_LEDGER``) outside the queue database, so that neither a
rolled-back queue transaction nor a database restart can erase or block what a job did.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time

from django.tasks import TaskContext, task

from django_solidq import limits_concurrency, retry_on, unique

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS runs (job_id TEXT NOT NULL, kind TEXT NOT NULL,"
    " key TEXT NOT NULL, attempt INTEGER NOT NULL, pid INTEGER NOT NULL,"
    " event TEXT NOT NULL, at REAL NOT NULL)"
)
LIMIT = 2  # concurrent jobs per key of ``limited``
_local = threading.local()


class Flaky(Exception):
    """Raised on purpose by ``flaky`` for its first attempts."""


def open_ledger(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=120, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 120000")
    conn.execute("PRAGMA synchronous = NORMAL")  # durable across process crashes
    return conn


def create_ledger(path: str) -> None:
    conn = open_ledger(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(SCHEMA)
    conn.close()


def _ledger() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = open_ledger(os.environ["CHAOS_LEDGER"])
    return conn


def write(context: TaskContext, kind: str, key: str, event: str) -> None:
    """One row, committed at once (autocommit), before the job goes on."""
    row = (str(context.task_result.id), kind, key, context.attempt, os.getpid(), event, time.time())
    _ledger().execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)", row)


def _run(context: TaskContext, kind: str, key: str, seconds: float = 0.0) -> str:
    write(context, kind, key, "start")
    if seconds:
        time.sleep(seconds)
    write(context, kind, key, "end")
    return key


@task(takes_context=True)
def fast(context: TaskContext, token: str) -> str:
    return _run(context, "fast", token)


@task(takes_context=True)
def slow(context: TaskContext, token: str, seconds: float) -> str:
    return _run(context, "slow", token, seconds)


@task(takes_context=True)
def delayed(context: TaskContext, token: str) -> str:
    return _run(context, "delayed", token)


@task(takes_context=True, retry_on=[retry_on(Flaky, wait=0.5, attempts=5, jitter=0.5)])
def flaky(context: TaskContext, token: str, failures: int) -> str:
    write(context, "flaky", token, "start")
    if context.attempt <= failures:
        write(context, "flaky", token, "fail")
        raise Flaky(f"attempt {context.attempt} of {token} fails on purpose")
    write(context, "flaky", token, "end")
    return token


@task(
    takes_context=True,
    concurrency=limits_concurrency(key=lambda token, key, seconds: key, to=LIMIT, duration=120),
)
def limited(context: TaskContext, token: str, key: str, seconds: float) -> str:
    return _run(context, "limited", key, seconds)


@task(takes_context=True, unique=unique(key=lambda token, seconds: token))
def uniq(context: TaskContext, token: str, seconds: float) -> str:
    return _run(context, "unique", token, seconds)


@task(takes_context=True)
def tick(context: TaskContext) -> str:
    return _run(context, "tick", "")
