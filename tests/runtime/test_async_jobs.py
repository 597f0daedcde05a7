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
from django_solidq.joblog import JobContextFilter
from django_solidq.models import Job
from django_solidq.runtime.async_pool import STEP_THREADS
from django_solidq.runtime.worker import Worker
from tests.app import tasks
from tests.harness import wait_for
from tests.runtime import tasks as gates

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
        worker.async_pool.join(5)
        gc.collect()


@pytest.fixture(autouse=True)
def _reset() -> None:
    tasks.ASYNC_IN_FLIGHT.update(now=0, max=0)
    tasks.CALLS.clear()
    gates.reset()


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


def test_an_async_job_nothing_wraps_runs_in_steps_without_a_thread_of_its_own(worker_with, caplog):
    """No middleware, no around hooks: the job starts in a step thread (its before hooks may
    query), its coroutine runs on the loop with the job's log fields, and it ends in a step
    thread (after hooks, outcome). No bridge thread is started."""
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(JobContextFilter())  # at emit time, in the coroutine's context
    result = tasks.async_before_after.enqueue()
    worker = worker_with(settings())
    wait_for(lambda: status(result.id) == TaskResultStatus.SUCCESSFUL, timeout=30)
    assert default_task_backend.get_result(result.id).return_value == "stepped"
    before, step_in, task_call, after, step_out = tasks.CALLS
    assert (before, task_call, after) == ("before", "async-task", "after:stepped")
    for step in (step_in, step_out):  # a step thread, where the hook's query counted the job
        assert step.startswith("solidq-async-step_") and step.endswith(":1")
    inside = [r for r in caplog.records if r.getMessage() == "inside the coroutine"]
    assert [getattr(r, "job_id", None) for r in inside] == [result.id]
    assert not [t for t in threading.enumerate() if t.name.startswith("solidq-async-job")]
    assert worker.async_pool.busy == 0


def test_fifty_async_jobs_in_steps_take_a_few_threads(worker_with):
    results = [tasks.async_gate.enqueue(50) for _ in range(50)]
    worker_with(settings(threads=1))
    ids = [r.id for r in results]
    wait_for(lambda: all_done(ids), timeout=60, what="the 50 async jobs to end")
    assert tasks.ASYNC_IN_FLIGHT["max"] == 50
    steps = [t for t in threading.enumerate() if t.name.startswith("solidq-async-step_")]
    assert 1 <= len(steps) <= STEP_THREADS


def test_an_async_job_whose_before_hook_raises_fails_without_its_call(worker_with):
    result = tasks.async_refused.enqueue()
    worker = worker_with(settings())
    wait_for(lambda: status(result.id) == TaskResultStatus.FAILED, timeout=30)
    errors = default_task_backend.get_result(result.id).errors
    assert errors[0].exception_class_path == "tests.app.tasks.Boom"
    assert tasks.CALLS == []
    wait_for(lambda: worker.async_pool.busy == 0, what="the slot to free")


def test_an_async_job_returning_what_json_cannot_hold_fails(worker_with):
    result = tasks.async_returns_a_set.enqueue()
    worker_with(settings())
    wait_for(lambda: status(result.id) == TaskResultStatus.FAILED, timeout=30)
    errors = default_task_backend.get_result(result.id).errors
    assert "return value" in errors[0].traceback


def test_what_a_before_hook_sets_in_its_context_its_after_hook_sees(worker_with):
    results = [tasks.async_var_hooks.enqueue() for _ in range(8)]
    worker_with(settings())
    wait_for(lambda: all_done([r.id for r in results]), timeout=30, what="the 8 jobs")
    assert sorted(tasks.CALLS) == sorted(f"set-by-{r.id}" for r in results)
    assert tasks.HOOK_VAR.get() == "unset"


def test_blocked_hooks_do_not_hold_up_the_other_async_jobs(worker_with):
    held = [gates.async_held_before.enqueue(f"held-{i}") for i in range(STEP_THREADS + 1)]
    try:
        worker_with(settings())
        wait_for(
            lambda: all(gates.STARTED[f"held-{i}"].is_set() for i in range(STEP_THREADS + 1)),
            what="every blocked hook to start (more of them than step threads)",
        )
        fast = tasks.async_add.enqueue(1, 2)
        wait_for(lambda: status(fast.id) == TaskResultStatus.SUCCESSFUL, timeout=10)
    finally:
        for i in range(STEP_THREADS + 1):
            gates.OPEN[f"held-{i}"].set()
    wait_for(lambda: all_done([r.id for r in held]), timeout=30, what="the held jobs")


def test_sys_exit_in_a_coroutine_fails_its_job_only(worker_with):
    exits = tasks.async_exits.enqueue()
    worker_with(settings())
    wait_for(lambda: status(exits.id) == TaskResultStatus.FAILED, timeout=30)
    errors = default_task_backend.get_result(exits.id).errors
    assert errors[0].exception_class_path == "builtins.SystemExit"
    after = tasks.async_add.enqueue(1, 2)  # the loop still runs
    wait_for(lambda: status(after.id) == TaskResultStatus.SUCCESSFUL, timeout=30)


def test_sys_exit_in_a_task_an_async_job_started_leaves_the_loop_running(worker_with):
    parent = tasks.async_child_exits.enqueue()
    worker_with(settings())
    wait_for(lambda: status(parent.id) == TaskResultStatus.SUCCESSFUL, timeout=30)
    assert default_task_backend.get_result(parent.id).return_value == "parent done"
    after = tasks.async_add.enqueue(2, 2)
    wait_for(lambda: status(after.id) == TaskResultStatus.SUCCESSFUL, timeout=30)


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
