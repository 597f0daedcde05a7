"""The dispatcher in this process: due scheduled jobs to ready, batch after batch; expired
permits and blocked jobs freed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from django_solidq.conf import DispatcherConfig
from django_solidq.models import BlockedExecution, ReadyExecution, ScheduledExecution, Semaphore
from django_solidq.runtime.dispatcher import Dispatcher
from tests.app import tasks as app
from tests.harness import wait_for
from tests.runtime.conftest import running

pytestmark = pytest.mark.django_db(transaction=True)


def dispatcher(batch_size: int = 100) -> Dispatcher:
    config = DispatcherConfig(
        polling_interval=0.05, batch_size=batch_size, concurrency_maintenance_interval=600
    )
    return Dispatcher(config)


def test_due_jobs_go_to_ready_in_batches_and_later_ones_wait():
    due = [app.add.using(run_after=timedelta(hours=1)).enqueue(i, i).id for i in range(5)]
    later = app.add.using(run_after=timedelta(hours=1)).enqueue(9, 9)
    ScheduledExecution.objects.filter(job_id__in=due).update(
        scheduled_at=timezone.now() - timedelta(seconds=1)
    )
    with running(dispatcher(batch_size=2)):
        wait_for(
            lambda: ReadyExecution.objects.filter(job_id__in=due).count() == 5,
            what="the five due jobs",
        )
    assert ScheduledExecution.objects.filter(job_id=later.id).exists()


def test_concurrency_maintenance_frees_expired_permits_and_unblocks_jobs(tmp_path):
    log = str(tmp_path / "log")
    holder = app.in_sequence.enqueue(log, "A")
    waiting = app.in_sequence.enqueue(log, "B")
    assert BlockedExecution.objects.filter(job_id=waiting.id).exists()
    past = timezone.now() - timedelta(seconds=1)
    ReadyExecution.objects.filter(job_id=holder.id).delete()  # its holder was lost
    Semaphore.objects.update(expires_at=past)
    BlockedExecution.objects.update(expires_at=past)
    dispatcher()._maintain_concurrency()
    assert ReadyExecution.objects.filter(job_id=waiting.id).exists()
    assert not BlockedExecution.objects.exists()
