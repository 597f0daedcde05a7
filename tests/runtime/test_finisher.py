"""The finisher: a worker's successes recorded in batches, off the job threads."""

from __future__ import annotations

import logging

import pytest
from django.tasks import TaskResultStatus, default_task_backend

from django_solidq.models import ClaimedExecution, Job, Process, ReadyExecution
from django_solidq.results import load_task
from django_solidq.runtime.execution import Success
from django_solidq.runtime.finisher import Finisher
from tests.app import tasks as app

pytestmark = pytest.mark.django_db(transaction=True)


def claim(count: int) -> list[Job]:
    process = Process.objects.register("worker", "finisher-test")
    return ReadyExecution.objects.claim(["*"], count, process.id)


def test_successes_are_recorded_and_settled_once_the_finisher_stops():
    ids = [app.add.enqueue(i, i).id for i in range(5)]
    jobs = claim(5)
    finisher = Finisher("finisher-test")
    finisher.hold(jobs)
    for job in jobs:
        finisher.add(Success(job, load_task(job), job.args[0] * 2))
    finisher.stop(timeout=10)
    assert finisher.held() == set()
    assert not ClaimedExecution.objects.exists()
    for i, result_id in enumerate(ids):
        result = default_task_backend.get_result(result_id)
        assert (result.status, result.return_value) == (TaskResultStatus.SUCCESSFUL, i * 2)
        assert result.worker_ids == ["finisher-test"]


def test_a_success_whose_claim_was_recovered_meanwhile_is_left_to_the_recovery(caplog):
    caplog.set_level(logging.WARNING, logger="django_solidq.worker")
    app.add.enqueue(1, 1)
    [job] = claim(1)
    ClaimedExecution.objects.filter(job_id=job.pk).delete()  # a pruner took it
    finisher = Finisher("finisher-test")
    finisher.hold([job])
    finisher.add(Success(job, load_task(job), 2))
    finisher.stop(timeout=10)
    assert finisher.held() == set()
    assert Job.objects.get(id=job.pk).finished_at is None
    assert "finished after its claim was recovered" in caplog.text
