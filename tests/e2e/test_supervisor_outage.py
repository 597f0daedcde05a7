"""A supervisor through a database outage (PostgreSQL: the test database is closed to every
connection, its backends ended, then opened again): it neither crashes when a child dies
meanwhile nor, once the database is back, prunes the processes that could not heartbeat."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection, connections
from django.tasks import TaskResultStatus

from django_solidq.models import Process
from tests.app import tasks
from tests.harness import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.process]

FAST_HEARTBEATS = {
    "PROCESS_HEARTBEAT_INTERVAL": 0.5,
    "PROCESS_ALIVE_THRESHOLD": 3,
    "WORKERS": [{"queues": ["*"], "threads": 1, "polling_interval": 0.1}],
}


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("closing one database to connections is done on PostgreSQL")


def _admin_sql(sql: str) -> None:
    """Run ``sql`` on the server's ``postgres`` database (not the one being closed)."""
    import psycopg

    params = connection.get_connection_params()
    params = {k: v for k, v in params.items() if k in ("host", "port", "user", "password")}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(sql)


@contextmanager
def database_away() -> Iterator[None]:
    name = connection.settings_dict["NAME"]
    connections.close_all()
    _admin_sql(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
    try:
        _admin_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
        yield
    finally:
        _admin_sql(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')


def test_a_child_dying_while_the_database_is_away_leaves_the_supervisor_running(runjobs):
    supervisor = runjobs(config=FAST_HEARTBEATS)
    wait_for(lambda: Process.objects.filter(kind="worker").exists(), what="a worker")
    worker = Process.objects.get(kind="worker")
    with database_away():
        os.kill(worker.pid, signal.SIGKILL)
        wait_for(
            lambda: f"{worker.name} exited with status -9" in supervisor.log(),
            what="the supervisor to see its worker die",
        )
        wait_for(
            lambda: supervisor.log().count("OperationalError") >= 2 or not supervisor.alive(),
            what="the supervisor to meet the outage",
        )
        assert supervisor.alive(), supervisor.log()
    # Back: the dead worker is settled, a new one runs jobs, the stop is clean.
    wait_for(lambda: not Process.objects.filter(name=worker.name).exists(), what="settling")
    result = tasks.add.enqueue(1, 2)
    wait_for(
        lambda: tasks.add.get_result(result.id).status == TaskResultStatus.SUCCESSFUL,
        timeout=30,
        what="a job",
    )
    supervisor.send(signal.SIGTERM)
    assert supervisor.wait(15) == 0
    assert not Process.objects.exists()


def test_the_supervisor_back_from_an_outage_longer_than_the_threshold_prunes_nobody(runjobs):
    supervisor = runjobs(config=FAST_HEARTBEATS)
    every_kind = {"supervisor", "worker", "dispatcher", "scheduler"}
    wait_for(
        lambda: set(Process.objects.values_list("kind", flat=True)) == every_kind,
        what="every process to register",
    )
    before = set(Process.objects.values_list("name", flat=True))
    with database_away():
        # The scenario is an outage longer than the alive threshold: its length is the point.
        began = time.monotonic()
        threshold = FAST_HEARTBEATS["PROCESS_ALIVE_THRESHOLD"]
        wait_for(
            lambda: (
                time.monotonic() - began > threshold + 1.5
                and "Error in supervisor maintenance" in supervisor.log()
            ),
            timeout=30,
            what="an outage past the alive threshold",
        )
    # Everybody heartbeats again before the supervisor would prune.
    wait_for(
        lambda: "Pruned" in supervisor.log() or _heartbeats_fresh(before),
        timeout=30,
        what="every process to heartbeat again",
    )
    assert "Pruned" not in supervisor.log()
    assert set(Process.objects.values_list("name", flat=True)) == before
    supervisor.send(signal.SIGTERM)
    assert supervisor.wait(15) == 0


def _heartbeats_fresh(names: set[str]) -> bool:
    from datetime import timedelta

    from django.utils import timezone

    recent = timezone.now() - timedelta(seconds=1)
    fresh = Process.objects.filter(name__in=names, last_heartbeat_at__gte=recent).count()
    return fresh == len(names)
