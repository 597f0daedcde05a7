"""Claiming and dispatching, one transition at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from django_solidq.conf import queue_database
from django_solidq.models import ClaimedExecution, Job, Pause, ReadyExecution, ScheduledExecution
from tests.app import tasks

pytestmark = pytest.mark.django_db


def names(jobs: list[Job]) -> list[tuple[str, int]]:
    return [(job.queue_name, job.args[0]) for job in jobs]


def test_claims_priority_first_then_first_in_first_out():
    for i, priority in enumerate([0, 10, 0, 10, -5]):
        tasks.add.using(priority=priority).enqueue(i, 0)
    claimed = ReadyExecution.objects.claim(["*"], 10, None)
    assert [job.args[0] for job in claimed] == [1, 3, 0, 2, 4]


def test_claims_queue_by_queue_in_the_configured_order_with_prefixes():
    tasks.add.using(queue_name="low").enqueue(1, 0)
    tasks.add.using(queue_name="mail_bulk").enqueue(2, 0)
    tasks.add.using(queue_name="critical", priority=-50).enqueue(3, 0)
    tasks.add.using(queue_name="mail_now").enqueue(4, 0)
    claimed = ReadyExecution.objects.claim(["critical", "mail*", "*"], 10, None)
    assert names(claimed) == [("critical", 3), ("mail_bulk", 2), ("mail_now", 4), ("low", 1)]


def test_claims_no_more_than_asked_and_records_the_claim():
    for i in range(5):
        tasks.add.enqueue(i, 0)
    claimed = ReadyExecution.objects.claim(["*"], 2, 42)
    assert len(claimed) == 2
    assert ReadyExecution.objects.count() == 3
    assert set(ClaimedExecution.objects.values_list("process_id", flat=True)) == {42}


def test_paused_queues_are_skipped_until_resumed():
    tasks.add.using(queue_name="paused").enqueue(1, 0)
    tasks.add.enqueue(2, 0)
    Pause.objects.pause("paused")
    assert names(ReadyExecution.objects.claim(["*"], 10, None)) == [("default", 2)]
    assert ReadyExecution.objects.claim(["paused"], 10, None) == []
    Pause.objects.resume("paused")
    assert names(ReadyExecution.objects.claim(["paused"], 10, None)) == [("paused", 1)]


def test_future_jobs_wait_in_scheduled_until_dispatched_when_due():
    later = tasks.add.using(run_after=timedelta(hours=1)).enqueue(1, 1)
    assert ScheduledExecution.objects.filter(job_id=later.id).exists()
    assert ScheduledExecution.objects.dispatch_next_batch(10) == 0
    ScheduledExecution.objects.update(scheduled_at=timezone.now() - timedelta(seconds=1))
    assert ScheduledExecution.objects.dispatch_next_batch(10) == 1
    assert ReadyExecution.objects.filter(job_id=later.id).exists()


def test_dispatch_moves_at_most_a_batch():
    past = timezone.now() - timedelta(seconds=1)
    for i in range(5):
        tasks.add.using(run_after=timedelta(hours=1)).enqueue(i, 0)
    ScheduledExecution.objects.update(scheduled_at=past)
    assert ScheduledExecution.objects.dispatch_next_batch(3) == 3
    assert ScheduledExecution.objects.dispatch_next_batch(3) == 2


@pytest.mark.django_db(transaction=True)
def test_enqueue_inside_atomic_is_gone_on_rollback():
    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic(using=queue_database()):
        result = tasks.add.enqueue(1, 2)
        assert Job.objects.filter(id=result.id).exists()
        raise Rollback
    assert not Job.objects.exists()
    assert not ReadyExecution.objects.exists()
