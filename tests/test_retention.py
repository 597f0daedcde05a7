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
