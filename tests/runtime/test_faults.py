"""Connections that die under a running ``runjobs``: at a claim's or a finish's commit, or
while idle. Real databases and processes; the faults (tests/faults.py) kill real connections.

The claim and finish faults also run on SQLite (the worker sees the same error after a
commit); killing idle connections needs a server (PostgreSQL or MariaDB)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.tasks import TaskResultStatus, default_task_backend

from django_solidq.backend import enqueue_all
from django_solidq.models import ClaimedExecution, Job, Process, ScheduledExecution
from tests.app import tasks
from tests.faults import ENV
from tests.harness import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.process]

ALIVE_THRESHOLD = 5.0  # tests/settings.py: PROCESS_ALIVE_THRESHOLD
# Small claims (three threads, ten ahead), so that a few dozen jobs take enough claims and
# finishes for the injected faults to fire several times.
THREE_THREADS = {
    "WORKERS": [{"queues": ["*"], "threads": 3, "prefetch": 10, "polling_interval": 0.05}]
}
needs_server = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="kills server connections (PostgreSQL, MariaDB)"
)


def ended(*result_ids: str) -> bool:
    return all(
        default_task_backend.get_result(rid).status
        in (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED)
        for rid in result_ids
    )


def starts(ledger: Path) -> Counter[str]:
    text = ledger.read_text() if ledger.exists() else ""
    return Counter(line.split()[1] for line in text.splitlines() if line.startswith("start"))


class ClaimWatch:
    """Fails as soon as a claim is held by a live process for longer than the alive
    threshold: a stranded claim that nothing would ever recover."""

    def __init__(self) -> None:
        self.first_seen: dict[int, float] = {}

    def check(self) -> None:
        now = time.monotonic()
        live = set(Process.objects.values_list("id", flat=True))
        claims = list(ClaimedExecution.objects.values_list("id", "process_id", "job_id"))
        for claim_id, process_id, job_id in claims:
            since = self.first_seen.setdefault(claim_id, now)
            if process_id in live and now - since > ALIVE_THRESHOLD:
                raise AssertionError(
                    f"job {job_id} is stranded: claimed by live process {process_id} for "
                    f"{now - since:.1f}s"
                )

    def until(self, predicate, timeout: float, what: str) -> None:
        def checked() -> bool:
            self.check()
            return bool(predicate())

        wait_for(checked, timeout=timeout, interval=0.1, what=what)


def assert_ran_once_each(ids: list[str], labels: list[str], ledger: Path) -> None:
    counts = starts(ledger)
    assert {label: counts[label] for label in labels if counts[label] != 1} == {}
    for rid in ids:
        result = default_task_backend.get_result(rid)
        assert result.status == TaskResultStatus.SUCCESSFUL, result.errors
        assert (result.attempts, result.errors) == (1, [])


def test_claims_whose_commit_reply_is_lost_run_exactly_once_and_none_is_stranded(
    runjobs, tmp_path, monkeypatch
):
    monkeypatch.setenv(ENV, '{"claim": 4, "every": 3}')
    ledger = tmp_path / "ledger"
    labels = [f"job{i}" for i in range(60)]
    ids = [tasks.record.enqueue(str(ledger), label).id for label in labels]
    supervisor = runjobs(config=THREE_THREADS)
    ClaimWatch().until(lambda: ended(*ids), timeout=60, what="all 60 jobs to end")
    assert_ran_once_each(ids, labels, ledger)
    assert supervisor.log().count("Fault injected") >= 4  # the faults did fire


def test_a_live_worker_releases_a_claim_in_its_name_that_none_of_its_threads_runs(
    runjobs, tmp_path
):
    ledger = tmp_path / "ledger"
    runjobs(config=THREE_THREADS)
    worker = wait_for(lambda: Process.objects.filter(kind="worker").first(), what="a worker")
    result = tasks.record.using(run_after=timedelta(hours=1)).enqueue(str(ledger), "slipped")
    with transaction.atomic():  # as if a claim had committed without the worker knowing
        ScheduledExecution.objects.filter(job_id=result.id).delete()
        ClaimedExecution.objects.create(job_id=result.id, process_id=worker.id)
    ClaimWatch().until(lambda: ended(result.id), timeout=30, what="the slipped job to run")
    assert_ran_once_each([result.id], ["slipped"], ledger)


def test_a_finish_whose_commit_reply_is_lost_counts_once_and_hands_its_permit_on(
    runjobs, tmp_path, monkeypatch
):
    monkeypatch.setenv(ENV, '{"finish_after": 3, "every": 2}')
    ledger = tmp_path / "ledger"
    labels = [f"seq{i}" for i in range(12)]
    ids = [tasks.in_sequence.enqueue(str(ledger), label, sleep=0).id for label in labels]
    supervisor = runjobs(config=THREE_THREADS)
    ClaimWatch().until(lambda: ended(*ids), timeout=60, what="12 jobs on one key to end")
    assert_ran_once_each(ids, labels, ledger)
    assert supervisor.log().count("Fault injected") >= 3
    assert "finished after its claim was recovered" not in supervisor.log()


def test_a_finish_rolled_back_with_its_connection_is_written_once(runjobs, tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, '{"finish_rolled_back": 3, "every": 2}')
    ledger = tmp_path / "ledger"
    labels = [f"job{i}" for i in range(20)]
    ids = [tasks.record.enqueue(str(ledger), label).id for label in labels]
    runjobs(config=THREE_THREADS)
    ClaimWatch().until(lambda: ended(*ids), timeout=60, what="20 jobs to end")
    assert_ran_once_each(ids, labels, ledger)


@pytest.mark.parametrize("fault", ["fail_after", "fail_rolled_back"])
def test_a_failure_whose_connection_died_at_commit_is_recorded_once(runjobs, monkeypatch, fault):
    monkeypatch.setenv(ENV, f'{{"{fault}": 2}}')
    ids = [tasks.fail.enqueue(f"boom{i}").id for i in range(4)]
    runjobs(config=THREE_THREADS)
    ClaimWatch().until(lambda: ended(*ids), timeout=60, what="4 failing jobs to end")
    for rid in ids:
        result = default_task_backend.get_result(rid)
        assert result.status == TaskResultStatus.FAILED
        assert result.attempts == 1
        assert [e.exception_class_path for e in result.errors] == ["tests.app.tasks.Boom"]


# Idle connections killed ------------------------------------------------------------------
def kill_other_connections() -> list[int]:
    """End every other session on this test database (never another engineer's): what a
    PostgreSQL restart or an admin's kill does to an idle worker. Returns their ids."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            ids = [row[0] for row in cursor.fetchall()]
            for pid in ids:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        else:
            cursor.execute(
                "SELECT id FROM information_schema.processlist "
                "WHERE db = DATABASE() AND id <> CONNECTION_ID()"
            )
            ids = [row[0] for row in cursor.fetchall()]
            for thread_id in ids:
                try:
                    cursor.execute(f"KILL CONNECTION {int(thread_id)}")
                except Exception:
                    pass  # gone already
    return ids


def sessions_alive(ids: list[int]) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [ids])
        else:
            marks = ", ".join(["%s"] * len(ids)) or "NULL"
            cursor.execute(
                f"SELECT count(*) FROM information_schema.processlist WHERE id IN ({marks})",
                ids,
            )
        return bool(cursor.fetchone()[0])


def settled() -> bool:
    return not Job.objects.filter(finished_at=None).exists()


@needs_server
def test_jobs_after_every_connection_was_killed_while_idle_all_succeed_first_time(runjobs):
    runjobs(config=THREE_THREADS)
    # Overlapping jobs, so that every job thread opens its connection.
    warm = [tasks.query_database.enqueue(0.3).id for _ in range(6)]
    wait_for(lambda: ended(*warm), timeout=30, what="the warm-up jobs")
    wait_for(settled, what="the worker to be idle")
    killed = kill_other_connections()
    assert len(killed) >= 4  # the job threads, the poll, the finisher, the heartbeats
    wait_for(lambda: not sessions_alive(killed), what="the killed sessions to end")

    ids = [tasks.query_database.enqueue().id for _ in range(30)]
    wait_for(lambda: ended(*ids), timeout=60, what="30 jobs to end")
    failed = [default_task_backend.get_result(rid).errors for rid in ids]
    assert [errors for errors in failed if errors] == []
    assert all(default_task_backend.get_result(rid).attempts == 1 for rid in ids)


@needs_server
def test_jobs_drain_exactly_once_while_every_connection_is_killed_again_and_again(
    runjobs, tmp_path
):
    """The field report: KILL CONNECTION rounds while runjobs drains a backlog stranded a few
    jobs in every run. Here a round of kills follows every 25 jobs done, 12 rounds."""
    ledger = tmp_path / "ledger"
    labels = [f"job{i}" for i in range(600)]
    results = enqueue_all([tasks.record.bind(str(ledger), label, 0.01) for label in labels])
    runjobs(config=THREE_THREADS)
    watch, rounds, done_at_last_round = ClaimWatch(), 0, 0

    def drained() -> bool:
        nonlocal rounds, done_at_last_round
        done = Job.objects.filter(finished_at__isnull=False).count()
        if rounds < 12 and done - done_at_last_round >= 25:
            kill_other_connections()
            rounds, done_at_last_round = rounds + 1, done
        return done == len(labels)

    watch.until(drained, timeout=120, what="600 jobs to end under connection kills")
    assert rounds == 12
    assert_ran_once_each([r.id for r in results], labels, ledger)
