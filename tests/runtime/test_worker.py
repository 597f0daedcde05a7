"""The worker in this process: claims for idle threads, performs, records, releases."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from django.tasks import TaskResultStatus, default_task_backend

from django_solidq.models import ClaimedExecution, Job, Process, ReadyExecution
from django_solidq.runtime.worker import Worker
from tests.app import tasks as app
from tests.harness import wait_for
from tests.runtime import tasks
from tests.runtime.conftest import make_worker

pytestmark = pytest.mark.django_db(transaction=True)


def ended(*ids: str) -> bool:
    return all(
        default_task_backend.get_result(i).status
        in (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED)
        for i in ids
    )


def result(result_id: str):
    return default_task_backend.get_result(result_id)


def test_a_worker_records_successes_failures_and_retries(worker_running, tmp_path):
    added = app.add.enqueue(2, 3)
    failed = app.fail.enqueue("kaboom")
    flaky = app.flaky_twice.enqueue(str(tmp_path / "n"))
    worker = worker_running(threads=2)
    wait_for(lambda: ended(added.id, failed.id, flaky.id), what="three jobs")
    assert result(added.id).return_value == 5
    assert result(added.id).worker_ids == [worker.name]
    boom = result(failed.id)
    assert boom.status == TaskResultStatus.FAILED
    assert [e.exception_class_path for e in boom.errors] == ["tests.app.tasks.Boom"]
    assert (result(flaky.id).return_value, result(flaky.id).attempts) == ("ok", 3)


def test_with_prefetch_off_a_worker_claims_only_as_many_jobs_as_it_has_idle_threads(
    worker_running,
):
    ids = [tasks.gated.enqueue(name).id for name in "abc"]
    worker_running(threads=2, config={"prefetch": 0})
    wait_for(lambda: sum(tasks.STARTED[n].is_set() for n in "abc") == 2, what="two starts")
    assert ClaimedExecution.objects.count() == 2
    assert ReadyExecution.objects.count() == 1  # no prefetch: the third waits in ready
    for name in "abc":
        tasks.OPEN[name].set()
    wait_for(lambda: ended(*ids), what="all three")
    assert {result(i).return_value for i in ids} == {"a", "b", "c"}


def test_workers_take_only_the_queues_they_serve(worker_running):
    default = [app.add.enqueue(i, 1).id for i in range(3)]
    other = [app.on_other_queue.enqueue().id for _ in range(3)]
    first = worker_running(queues=("default",))
    second = worker_running(queues=("other",))
    wait_for(lambda: ended(*default, *other), what="six jobs")
    assert {result(i).worker_ids[0] for i in default} == {first.name}
    assert {result(i).worker_ids[0] for i in other} == {second.name}


def test_a_task_that_no_longer_imports_fails_clearly_and_the_worker_keeps_going(
    worker_running,
):
    broken = app.add.enqueue(1, 1)
    Job.objects.filter(id=broken.id).update(task_path="tests.app.tasks.vanished")
    fine = app.add.enqueue(2, 2)
    worker_running(threads=1)
    wait_for(lambda: ended(fine.id), what="the good job")
    wait_for(lambda: Job.objects.get(id=broken.id).errors, what="the broken job's error")
    error = Job.objects.get(id=broken.id).errors[0]
    assert error["exception_class_path"] == "django_solidq.exceptions.TaskImportError"
    assert "tests.app.tasks.vanished" in error["message"]


def test_a_job_past_its_timeout_is_interrupted_and_retried_by_its_rule(worker_running, tmp_path):
    slow = app.slow_in_python.enqueue(str(tmp_path / "n"), 30)
    worker_running(threads=1)
    wait_for(lambda: ended(slow.id), what="the retried job")
    final = result(slow.id)
    assert (final.status, final.return_value) == (TaskResultStatus.SUCCESSFUL, "run 2")
    assert [e.exception_class_path for e in final.errors] == ["django_solidq.exceptions.JobTimeout"]


def test_a_claim_in_the_worker_s_name_that_no_thread_runs_is_released(worker_running, caplog):
    caplog.set_level(logging.WARNING, logger="django_solidq.worker")
    running = tasks.gated.enqueue("held")
    worker = worker_running(threads=1)  # busy with "held": a released job stays in ready
    wait_for(tasks.STARTED["held"].is_set, what="the held job to start")
    slipped = app.add.using(run_after=timedelta(hours=1)).enqueue(1, 1)
    Job.objects.get(id=slipped.id).scheduledexecution.delete()
    assert worker.process is not None
    ClaimedExecution.objects.create(job_id=slipped.id, process_id=worker.process.id)

    worker.release_stranded()  # what its heartbeat also does, every interval
    wait_for(
        lambda: ReadyExecution.objects.filter(job_id=slipped.id).exists(),
        what="the stranded claim to be released",
    )
    assert ClaimedExecution.objects.filter(job_id=running.id).exists()  # its own: kept
    assert Job.objects.get(id=slipped.id).errors == []  # never started: no attempt counted
    assert "released 1 stranded claim(s)" in caplog.text


def test_a_worker_whose_row_is_gone_stops_itself():
    worker = make_worker()
    worker.start()
    try:
        assert worker.process is not None
        Process.objects.filter(id=worker.process.id).delete()
        worker._beat()  # what its heartbeat thread does every interval
        assert worker.stopping.is_set()
    finally:
        worker.stop()
        worker.drain()


def test_drain_waits_for_jobs_in_flight_and_deregistering_gives_the_rest_back(settings):
    settings.SOLIDQ = {**settings.SOLIDQ, "SHUTDOWN_TIMEOUT": 0.2}
    job = tasks.gated.enqueue("long")
    worker: Worker = make_worker(threads=1)
    worker.start()
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    wait_for(tasks.STARTED["long"].is_set, what="the job to start")
    worker.stop()
    thread.join(10)
    assert not worker.drain()  # still running past the shutdown timeout
    worker.deregister()
    assert ReadyExecution.objects.filter(job_id=job.id).exists()  # back, untouched
    assert Job.objects.get(id=job.id).errors == []
    assert not Process.objects.exists()
