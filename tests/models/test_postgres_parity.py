"""PostgreSQL's single-statement transitions (ops/postgres.py) and the portable ORM code
that MariaDB and SQLite run leave the same rows after the same sequence of transitions."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connections

from django_solidq.backend import enqueue_all
from django_solidq.conf import queue_database
from django_solidq.models import Job, Semaphore
from django_solidq.ops import PortableOps
from tests import state
from tests.app.state_tasks import KINDS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connections[queue_database()].vendor != "postgresql":
        pytest.skip("the fast paths exist on PostgreSQL only; this run is not on PostgreSQL")


def run_sequence() -> None:
    """Enqueue (single and bulk, due and later), claim, finish, fail, retry, hand permits
    over, discard: every transition that has a PostgreSQL fast path, and its neighbours."""
    for n in range(3):
        state.enqueue("plain", n, mode=["ok", "fail", "retry"][n])
    later = state.enqueue("plain", 3, later=True)
    state.enqueue("plain", 4, mode="discard")
    enqueue_all([KINDS["plain"].bind(10 + n, mode="ok") for n in range(6)])
    enqueue_all([KINDS["limited/block"].bind(20 + n, key="k") for n in range(4)])
    enqueue_all([KINDS["unique/return"].bind(30 + n, key=f"u{n % 2}") for n in range(3)])
    while claimed := state.claim(3):
        for claimed_job in claimed:
            state.perform_claimed(claimed_job)
    state.discard("scheduled", [later])


def snapshot() -> list[tuple[Any, ...]]:
    """Every job's call and where it stands, without ids and timestamps."""
    rows = []
    for one in Job.objects.order_by("task_path", "args"):
        rows.append(
            (
                one.task_path,
                repr(one.args),
                repr(one.kwargs),
                one.queue_name,
                one.priority,
                one.concurrency_key,
                one.unique_key,
                state.where(one.pk),
                one.finished_at is not None,
                one.discarded_at is not None,
                len(one.worker_ids),
                [e["exception_class_path"] for e in one.errors],
                one.return_value,
                one.started_at is not None,
            )
        )
    rows += [(s.key, s.value, s.limit) for s in Semaphore.objects.order_by("key")]
    return rows


def test_fast_paths_and_portable_paths_leave_the_same_rows() -> None:
    run_sequence()
    fast = snapshot()
    state.assert_invariants("fast paths")
    Job.objects.all().delete()
    Semaphore.objects.all().delete()
    connection: Any = connections[queue_database()]
    fast_ops = connection.solidq_ops
    connection.solidq_ops = PortableOps()  # the contract's other implementation
    try:
        run_sequence()
    finally:
        connection.solidq_ops = fast_ops
    portable = snapshot()
    state.assert_invariants("portable paths")
    assert fast == portable
    reached = {row[7] for row in fast if len(row) > 7}
    assert {"scheduled", "failed", "discarded", "ended"} <= reached, reached
