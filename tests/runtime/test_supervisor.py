"""The supervisor's bookkeeping, in this process: orphans at boot, pruning (after an outage
only once the database has been back for a threshold: a fake clock), and the exit of a child
— settled at once, or at a later turn if the database was away."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.db import OperationalError
from django.utils import timezone

from django_solidq.conf import get_config
from django_solidq.models import ClaimedExecution, Job, Process, ReadyExecution
from django_solidq.runtime.supervisor import Slot, Supervisor
from tests.app import tasks as app

pytestmark = pytest.mark.django_db(transaction=True)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class DeadChild:
    """What the supervisor reads of a child process that has exited."""

    pid = 4242
    sentinel = -1

    def __init__(self, exitcode: int) -> None:
        self.exitcode = exitcode

    def is_alive(self) -> bool:
        return False

    def join(self, timeout: float | None = None) -> None:
        pass


def claimed_by(process: Process) -> Any:
    """A job claimed by ``process``, as if it were running there."""
    result = app.add.enqueue(1, 2)
    ReadyExecution.objects.filter(job_id=result.id).delete()
    ClaimedExecution.objects.create(job_id=result.id, process_id=process.id)
    return result.id


def errors_of(job_id: Any) -> list[str]:
    return [e["exception_class_path"] for e in Job.objects.get(id=job_id).errors]


@pytest.fixture
def supervisor():
    made: list[Supervisor] = []

    def make() -> Supervisor:
        supervisor = Supervisor([])
        supervisor.clock = Clock()
        made.append(supervisor)
        return supervisor

    yield make
    for supervisor in made:
        supervisor.stop()
        supervisor.deregister()


def test_booting_recovers_jobs_claimed_by_processes_that_are_gone(supervisor, caplog):
    caplog.set_level(logging.WARNING)
    orphan = app.add.enqueue(20, 22)
    ReadyExecution.objects.filter(job_id=orphan.id).delete()
    ClaimedExecution.objects.create(job_id=orphan.id, process_id=987654321)
    supervisor().start()
    assert ReadyExecution.objects.filter(job_id=orphan.id).exists()
    assert errors_of(orphan.id) == ["django_solidq.exceptions.ProcessMissingError"]
    assert "Lost attempt 1 of tests.app.tasks.add" in caplog.text
    assert "Recovered 1 job(s)" in caplog.text


def test_stale_processes_are_pruned_and_their_jobs_run_again(supervisor):
    threshold = get_config().process_alive_threshold
    stale = Process.objects.register("worker", "stale", pid=0)
    fresh = Process.objects.register("worker", "fresh", pid=0)
    Process.objects.filter(id=stale.id).update(
        last_heartbeat_at=timezone.now() - timedelta(seconds=threshold + 1)
    )
    Process.objects.filter(id=fresh.id).update(
        last_heartbeat_at=timezone.now() - timedelta(seconds=threshold - 1)
    )
    job_id = claimed_by(stale)
    supervisor().start()  # at boot, pruning does not wait
    assert set(Process.objects.values_list("name", flat=True)) >= {"fresh"}
    assert not Process.objects.filter(name="stale").exists()
    assert ReadyExecution.objects.filter(job_id=job_id).exists()
    assert errors_of(job_id) == ["django_solidq.exceptions.ProcessPrunedError"]


def test_after_an_outage_pruning_waits_until_the_database_was_back_for_a_threshold(supervisor):
    threshold = get_config().process_alive_threshold
    boss = supervisor()
    boss.start()
    stale = Process.objects.register("worker", "stale", pid=0)
    Process.objects.filter(id=stale.id).update(
        last_heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    boss._reachable_since = None  # maintenance failed: the database was away
    boss.maintain()  # back at clock 1000
    boss.clock.now += threshold - 0.1  # type: ignore[attr-defined]
    boss.maintain()
    assert Process.objects.filter(name="stale").exists()
    boss.clock.now += 0.1  # type: ignore[attr-defined]
    boss.maintain()
    assert not Process.objects.filter(name="stale").exists()


def test_a_child_that_died_has_its_jobs_recorded_as_lost_and_is_restarted_later(supervisor):
    boss = supervisor()
    boss.start()
    child = Process.objects.register("worker", "worker-dead", supervisor_id=boss.process_id)
    job_id = claimed_by(child)
    slot = Slot("worker", None, child=DeadChild(-9), name="worker-dead")  # type: ignore[arg-type]
    slot.started_at = boss.clock()  # type: ignore[assignment]
    boss.slots = [slot]
    boss._reap(stopping=False)
    assert slot.child is None and slot.restart_at > 0  # died young: restarted after a pause
    assert not Process.objects.filter(name="worker-dead").exists()
    assert errors_of(job_id) == ["django_solidq.exceptions.ProcessExitError"]
    assert ReadyExecution.objects.filter(job_id=job_id).exists()


def test_a_child_that_stopped_with_us_gives_its_jobs_back_untouched(supervisor):
    boss = supervisor()
    boss.start()
    child = Process.objects.register("worker", "worker-stopped", supervisor_id=boss.process_id)
    job_id = claimed_by(child)
    boss.slots = [Slot("worker", None, child=DeadChild(3), name="worker-stopped")]  # type: ignore[arg-type]
    boss._reap(stopping=True)
    assert errors_of(job_id) == []
    assert ReadyExecution.objects.filter(job_id=job_id).exists()


def test_a_child_exit_the_database_could_not_be_told_about_is_settled_at_a_later_turn(
    supervisor, monkeypatch
):
    boss = supervisor()
    boss.start()
    child = Process.objects.register("worker", "worker-unsettled", supervisor_id=boss.process_id)
    job_id = claimed_by(child)
    settle = boss._settle

    def away(*args: Any) -> None:
        raise OperationalError("the database is away")

    monkeypatch.setattr(boss, "_settle", away)
    boss.slots = [Slot("worker", None, child=DeadChild(1), name="worker-unsettled")]  # type: ignore[arg-type]
    boss._reap(stopping=False)  # must not raise: it would strand every other child
    assert boss._unsettled == [("worker-unsettled", 1, False, None)]
    assert ClaimedExecution.objects.filter(job_id=job_id).exists()

    monkeypatch.setattr(boss, "_settle", settle)
    boss._reachable_since = None
    boss.maintain()
    assert boss._unsettled == []
    assert errors_of(job_id) == ["django_solidq.exceptions.ProcessExitError"]
