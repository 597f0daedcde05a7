"""PostgreSQL: with ``PREPARED_STATEMENTS`` on, the workers' hot statements are prepared once
per connection (ops/prepared.py); off by default; and a prepared statement lost by a
transaction pooler turns preparing off instead of failing the claim."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from django.db import OperationalError, connections, transaction
from django.test import override_settings

from django_solidq.conf import queue_database
from django_solidq.models import ReadyExecution
from django_solidq.ops import prepared
from tests.app import tasks

pytestmark = pytest.mark.django_db(transaction=True)
ON = override_settings(SOLIDQ={"PREPARED_STATEMENTS": True})


@pytest.fixture(autouse=True)
def _postgres_only() -> Iterator[None]:
    if connections[queue_database()].vendor != "postgresql":
        pytest.skip("prepared statements are a PostgreSQL path; this run is not on PostgreSQL")
    prepared._turned_off.clear()
    yield
    prepared._turned_off.clear()


def server_statements() -> list[str]:
    """The statements prepared on the queue connection's server session."""
    with connections[queue_database()].cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements")
        return [statement for _, statement in cursor.fetchall()]


def claim_one() -> list[str]:
    tasks.add.enqueue(1, 2)
    return [str(job.pk) for job in ReadyExecution.objects.claim(["*"], 5, None)]


@ON
def test_the_claim_is_prepared_once_and_reused():
    for _ in range(3):
        assert len(claim_one()) == 1
    claims = [s for s in server_statements() if "FOR UPDATE SKIP LOCKED" in s]
    assert len(claims) == 1


@ON
def test_enqueue_is_not_prepared_unless_the_connection_opts_in():
    """Web processes often sit behind a pooler: Django's default (no prepare_threshold)."""
    for n in range(6):
        tasks.add.enqueue(n, n)
    assert not [s for s in server_statements() if "INSERT INTO" in s]


def test_preparing_is_off_by_default():
    """As in Django: behind an older transaction pooler, prepared statements of different
    clients would meet on one server connection."""
    for _ in range(3):
        claim_one()
    assert server_statements() == []


def forget_prepared_statements() -> None:
    """What a transaction pooler does: the next transaction runs on a server session that
    never saw the statement (psycopg still thinks it is prepared)."""
    with connections[queue_database()].cursor() as cursor:
        for name in [row for row in _names(cursor)]:
            cursor.execute(f"DEALLOCATE {name}")


def _names(cursor: object) -> list[str]:
    cursor.execute("SELECT name FROM pg_prepared_statements")  # type: ignore[attr-defined]
    return [name for (name,) in cursor.fetchall()]  # type: ignore[attr-defined]


@ON
def test_a_pooler_losing_the_statement_turns_preparing_off_and_the_claim_still_works(caplog):
    claim_one()
    forget_prepared_statements()
    with caplog.at_level(logging.WARNING, logger="django_solidq.worker"):
        assert len(claim_one()) == 1  # run again, unprepared: nothing was in progress
    assert "Prepared statements do not survive" in caplog.text
    assert prepared._turned_off == {queue_database()}
    claim_one()
    assert server_statements() == []  # nothing prepared any more


@ON
def test_inside_a_transaction_the_lost_statement_fails_as_an_operational_error():
    """The transaction is aborted: its owner (the queue's write retries) runs it again."""
    claim_one()
    forget_prepared_statements()
    tasks.add.enqueue(1, 2)
    with pytest.raises(OperationalError), transaction.atomic(using=queue_database()):
        ReadyExecution.objects.claim(["*"], 5, None)
    assert prepared._turned_off == {queue_database()}
    assert len(ReadyExecution.objects.claim(["*"], 5, None)) == 1  # now unprepared
