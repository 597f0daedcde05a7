"""``async def`` tasks run many at a time on a worker's event loop, not one per thread."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.tasks import TaskResultStatus, default_task_backend
from django.test import override_settings

from django_solidq.conf import get_config, validate
from django_solidq.models import Job
from django_solidq.runtime.worker import Worker
from tests.app import tasks
from tests.harness import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def settings(threads: int = 2, async_concurrency: int = 100, **extra: Any) -> dict[str, Any]:
    worker = {"queues": ["*"], "threads": threads, "polling_interval": 0.05}
    return {"WORKERS": [{**worker, "async_concurrency": async_concurrency}], **extra}


@pytest.fixture
def worker_with() -> Iterator[Any]:
    """Start an in-process worker with the given SOLIDQ; stopped at the end of the test."""
    started: list[tuple[Worker, threading.Thread, Any]] = []

    def start(solidq: dict[str, Any]) -> Worker:
        override = override_settings(SOLIDQ=solidq)
        override.enable()
        worker = Worker(get_config().workers[0])
        worker.start()
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        started.append((worker, thread, override))
        return worker

    yield start
    for worker, thread, override in started:
        worker.stop()
        thread.join(10)
        worker.drain()
        worker.deregister()
        override.disable()
        # The pool threads end once idle; their connections close when collected, so that
        # the test database can be dropped.
        worker.pool.join(5)
        gc.collect()


@pytest.fixture(autouse=True)
def _reset() -> None:
    tasks.ASYNC_IN_FLIGHT.update(now=0, max=0)
    tasks.CALLS.clear()


def status(result_id: str) -> TaskResultStatus:
    return default_task_backend.get_result(result_id).status


def all_done(ids: list[str]) -> bool:
    return not Job.objects.filter(id__in=ids, finished_at__isnull=True).exists()


def test_fifty_async_jobs_overlap_on_two_threads(worker_with):
    results = [tasks.async_gate.enqueue(50) for _ in range(50)]
    worker = worker_with(settings(threads=2))
    ids = [r.id for r in results]
    wait_for(lambda: all_done(ids), timeout=60, what="the 50 async jobs to end")
    # Every job waited until it saw 50 running at once: more than the 2 threads could hold.
    assert tasks.ASYNC_IN_FLIGHT["max"] == 50
    assert worker.async_pool.max_in_flight == 50
    values = [default_task_backend.get_result(i).return_value for i in ids]
    assert all(v == 50 for v in values)
    assert {status(i) for i in ids} == {TaskResultStatus.SUCCESSFUL}


def test_async_concurrency_bounds_the_jobs_in_flight(worker_with):
    results = [tasks.async_gate.enqueue(10, patience=0.2) for _ in range(20)]
    worker = worker_with(settings(threads=1, async_concurrency=4))
    ids = [r.id for r in results]
    wait_for(lambda: all_done(ids), timeout=60, what="the 20 async jobs to end")
    assert 1 < worker.async_pool.max_in_flight <= 4
    assert tasks.ASYNC_IN_FLIGHT["max"] <= 4


def test_an_async_job_is_retried_by_its_rules(worker_with, tmp_path):
    result = tasks.async_flaky_twice.enqueue(str(tmp_path / "count"))
    worker_with(settings())
    wait_for(lambda: status(result.id) == TaskResultStatus.SUCCESSFUL, timeout=30)
    job = Job.objects.get(id=result.id)
    assert len(job.worker_ids) == 3
    assert [e["exception_class_path"] for e in job.errors] == ["tests.app.tasks.Flaky"] * 2
    assert default_task_backend.get_result(result.id).return_value == "ok"


def test_an_async_job_that_raises_fails(worker_with):
    result = tasks.async_fail.enqueue("async boom")
    worker_with(settings())
    wait_for(lambda: status(result.id) == TaskResultStatus.FAILED, timeout=30)
    errors = default_task_backend.get_result(result.id).errors
    assert errors[0].exception_class_path == "tests.app.tasks.Boom"
    assert "async boom" in errors[0].traceback


def test_an_async_job_past_its_timeout_fails_with_job_timeout(worker_with):
    result = tasks.async_too_slow.enqueue()
    other = tasks.async_add.enqueue(2, 3)
    worker_with(settings())
    wait_for(lambda: status(result.id) == TaskResultStatus.FAILED, timeout=30)
    errors = default_task_backend.get_result(result.id).errors
    assert errors[0].exception_class_path == "django_solidq.exceptions.JobTimeout"
    # The worker carried on: its other async job ran.
    wait_for(lambda: status(other.id) == TaskResultStatus.SUCCESSFUL, timeout=30)
    assert default_task_backend.get_result(other.id).return_value == 5


def test_hooks_and_middleware_run_around_an_async_job(worker_with):
    result = tasks.async_hooked.enqueue()
    worker_with(settings(MIDDLEWARE=["tests.app.tasks.tracing_middleware"]))
    wait_for(lambda: status(result.id) == TaskResultStatus.SUCCESSFUL, timeout=30)
    assert tasks.CALLS == [
        "middleware-in:async_hooked",
        "around-in",
        "before",
        "async-task",
        "after:hooked",
        "around-out",
        "middleware-out",
    ]


def test_the_job_log_covers_async_jobs(worker_with, caplog):
    caplog.set_level(logging.INFO, logger="django_solidq.jobs")
    result = tasks.async_add.enqueue(1, 2)
    worker_with(settings())
    wait_for(lambda: status(result.id) == TaskResultStatus.SUCCESSFUL, timeout=30)
    lines = [r.getMessage() for r in caplog.records if getattr(r, "job_id", None) == result.id]
    assert any(line.startswith("Performing tests.app.tasks.async_add") for line in lines)
    assert any(line.startswith("Performed tests.app.tasks.async_add") for line in lines)


def test_sync_jobs_claimed_for_the_event_loop_are_given_back_untouched(worker_with, tmp_path):
    # The loop has room, the one thread does not: sync jobs claimed in that room go back to
    # ready without an attempt counted, and all run in the end.
    gates = [tasks.async_gate.enqueue(5, patience=0.5) for _ in range(5)]
    adds = [tasks.add.enqueue(i, 1) for i in range(10)]
    worker_with(settings(threads=1))
    ids = [r.id for r in [*gates, *adds]]
    wait_for(lambda: all_done(ids), timeout=60, what="every job to end")
    for r in adds:
        job = Job.objects.get(id=r.id)
        assert len(job.worker_ids) == 1 and job.errors == []
    assert {status(i) for i in ids} == {TaskResultStatus.SUCCESSFUL}


def test_a_queue_of_async_jobs_is_claimed_for_the_loop_only(worker_with, monkeypatch):
    """Once a claim brought only async jobs, idle threads are not claimed for: nothing is
    claimed only to be given back (which cost a third of the async throughput)."""
    released: list[int] = []
    original = Worker._release
    monkeypatch.setattr(
        Worker, "_release", lambda self, jobs: (released.append(len(jobs)), original(self, jobs))
    )
    first = [tasks.async_gate.enqueue(1, patience=0.01) for _ in range(4)]
    worker = worker_with(settings(threads=4, async_concurrency=20))
    wait_for(lambda: all_done([r.id for r in first]), timeout=60, what="the first async jobs")
    assert (worker._sync_seen, worker._async_seen) == (False, True)
    assert worker.room == 20  # the loop's room only
    rest = [tasks.async_gate.enqueue(1, patience=0.01) for _ in range(60)]
    wait_for(lambda: all_done([r.id for r in rest]), timeout=60, what="60 more async jobs")
    assert released == []
    # A sync job among them is claimed for the loop's room, given back, then run by a thread.
    add = tasks.add.enqueue(2, 3)
    wait_for(lambda: all_done([add.id]), timeout=60, what="the sync job")
    assert default_task_backend.get_result(add.id).return_value == 5
    assert Job.objects.get(id=add.id).errors == []


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "10", 10_001])
def test_async_concurrency_is_checked(value):
    problems = validate({"WORKERS": [{"queues": ["*"], "async_concurrency": value}]})
    assert [p.id for p in problems] == ["django_solidq.E005"]
    assert "async_concurrency" in problems[0].msg


def test_async_concurrency_defaults_to_100():
    assert validate({"WORKERS": [{"queues": ["*"], "async_concurrency": 10_000}]}) == []
    with override_settings(SOLIDQ={"WORKERS": [{"queues": ["*"]}]}):
        assert get_config().workers[0].async_concurrency == 100
        assert get_config().workers[0].threads == 10
