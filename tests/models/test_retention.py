"""Clearing finished jobs: by age and task, in batches, never touching live or failed jobs."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from django_solidq import enqueue_all
from django_solidq.models import FailedExecution, Job
from django_solidq.testing import perform_enqueued_jobs
from tests.app import tasks

pytestmark = pytest.mark.django_db


def age_all_finished(days: float) -> None:
    Job.objects.finished().update(finished_at=timezone.now() - timedelta(days=days))


def test_clears_finished_jobs_older_than_the_cutoff_in_batches():
    enqueue_all([tasks.add.bind(i, i) for i in range(25)])
    tasks.fail.enqueue()
    perform_enqueued_jobs()
    age_all_finished(2)
    recent = tasks.add.enqueue(1, 1)
    perform_enqueued_jobs()
    pending = tasks.add.enqueue(2, 2)

    deleted = Job.objects.clear_finished(timezone.now() - timedelta(days=1), batch_size=7)
    assert deleted == 25
    remaining = set(Job.objects.values_list("id", flat=True))
    assert {str(i) for i in remaining} >= {recent.id, pending.id}
    assert FailedExecution.objects.count() == 1


def test_the_command_honours_age_and_task():
    tasks.add.enqueue(1, 1)
    tasks.noop.enqueue()
    perform_enqueued_jobs()
    age_all_finished(3)
    out = StringIO()
    call_command("solidq_clear_finished", "--task", "tests.app.tasks.noop", stdout=out)
    assert "Deleted 1 finished job(s)" in out.getvalue()
    assert list(Job.objects.values_list("task_path", flat=True)) == ["tests.app.tasks.add"]
    call_command("solidq_clear_finished", "--older-than", str(4 * 86400), stdout=out)
    assert Job.objects.count() == 1
    call_command("solidq_clear_finished", stdout=out)
    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.process
def test_100k_finished_jobs_are_cleared_in_batches_while_workers_keep_running(runjobs):
    import threading

    from django.db import connections

    from django_solidq.conf import queue_database
    from django_solidq.models import ReadyExecution
    from tests.harness import wait_for

    old = timezone.now() - timedelta(days=2)
    enqueue_all([tasks.noop.bind() for _ in range(100_000)])
    ReadyExecution.objects.all()._raw_delete(queue_database())
    Job.objects.update(finished_at=old)  # as if they ran two days ago
    # The built-in hourly clear would race this one at the top of an hour (a CI run did).
    runjobs(config={"CLEAR_FINISHED_JOBS": False})
    cleared: list[int] = []

    def clear() -> None:
        try:
            cleared.append(Job.objects.clear_finished(old + timedelta(seconds=1), 2_000))
        finally:
            connections[queue_database()].close()

    clearing = threading.Thread(target=clear)
    clearing.start()
    live = [tasks.add.enqueue(i, i) for i in range(100)]
    wait_for(
        lambda: (
            Job.objects.filter(id__in=[r.id for r in live], finished_at__isnull=False).count()
            == 100
        ),
        timeout=120,
        what="jobs enqueued during the clear to run",
    )
    clearing.join(300)
    assert cleared == [100_000]
    assert Job.objects.count() == 100
