"""Claiming ahead: while a backlog waits, a worker claims a few jobs beyond its idle threads
(``prefetch``). A waiting job starts the moment a thread frees, goes back to ready untouched if
no thread starts it within ``prefetch_wait`` or the worker stops, and counts no attempt if the
worker dies (the supervisor's side: tests/e2e/test_runjobs.py)."""

from __future__ import annotations

import multiprocessing
import uuid

import pytest
from django.tasks import default_task_backend

from django_solidq.exceptions import ProcessExitError
from django_solidq.models import ClaimedExecution, Job, Process, ReadyExecution
from django_solidq.runtime.waiting import Unstarted, Waiting, shared_block, unstarted
from tests.app import tasks as app
from tests.harness import wait_for
from tests.runtime import tasks
from tests.runtime.conftest import make_worker

pytestmark = pytest.mark.django_db(transaction=True)

AHEAD = {"prefetch": 5, "prefetch_wait": 30}


def claimed_by(worker_name: str) -> set[str]:
    process = Process.objects.get(name=worker_name)
    return {str(job_id) for job_id in process.claims().values_list("job_id", flat=True)}


def attempts_and_errors(result_id: str) -> tuple[int, list[str]]:
    result = default_task_backend.get_result(result_id)
    return result.attempts, [e.exception_class_path for e in result.errors]


def test_a_busy_worker_claims_ahead_and_a_freed_thread_starts_the_waiting_job(worker_running):
    ids = [tasks.gated.enqueue(name).id for name in "abc"]
    worker = worker_running(threads=2, config=AHEAD)
    wait_for(lambda: tasks.STARTED["a"].is_set() and tasks.STARTED["b"].is_set(), what="a, b")
    wait_for(lambda: claimed_by(worker.name) == set(ids), what="c claimed ahead")
    assert not ReadyExecution.objects.exists()
    assert len(worker.waiting) == 1 and not tasks.STARTED["c"].is_set()

    tasks.OPEN["a"].set()  # a's thread ends a and starts c
    wait_for(tasks.STARTED["c"].is_set, what="c to start")
    for name in "bc":
        tasks.OPEN[name].set()
    wait_for(lambda: all(default_task_backend.get_result(i).is_finished for i in ids), what="3")
    assert [attempts_and_errors(i) for i in ids] == [(1, [])] * 3


def test_a_job_no_thread_starts_within_prefetch_wait_goes_back_for_another_worker(
    worker_running,
):
    long = tasks.gated.enqueue("long")
    short = [app.add.enqueue(i, i) for i in range(3)]
    busy = worker_running(threads=1, config={"prefetch": 5, "prefetch_wait": 0.3})
    wait_for(tasks.STARTED["long"].is_set, what="the long job to start")
    # The short jobs were claimed ahead; no thread frees, so they go back to ready untouched...
    wait_for(lambda: ReadyExecution.objects.count() == 3, what="the short jobs back in ready")
    assert claimed_by(busy.name) == {str(long.id)}
    assert busy.waiting.space == 5

    # ... where a worker with free threads runs them, while the long job still runs.
    other = worker_running(threads=2, config={"prefetch": 0})
    wait_for(lambda: all(Job.objects.get(id=r.id).finished_at for r in short), what="shorts")
    for result in short:
        final = default_task_backend.get_result(result.id)
        assert final.worker_ids == [other.name]
        assert (final.attempts, final.errors) == (1, [])
    assert not tasks.OPEN["long"].is_set()
    tasks.OPEN["long"].set()


def test_a_stopping_worker_gives_its_waiting_jobs_back_untouched(worker_running):
    first = tasks.gated.enqueue("first")
    rest = [app.add.enqueue(i, i) for i in range(2)]
    worker = worker_running(threads=1, config=AHEAD)
    wait_for(tasks.STARTED["first"].is_set, what="the first job to start")
    wait_for(lambda: len(claimed_by(worker.name)) == 3, what="two claimed ahead")

    worker.stop()
    tasks.OPEN["first"].set()
    assert worker.drain()
    # The first job ended; the waiting ones are ready again, never started.
    assert default_task_backend.get_result(first.id).attempts == 1
    ready = {str(job_id) for job_id in ReadyExecution.objects.values_list("job_id", flat=True)}
    assert ready == {r.id for r in rest}
    assert [attempts_and_errors(r.id) for r in rest] == [(0, [])] * 2


def test_long_jobs_shrink_how_many_are_claimed_ahead():
    worker = make_worker(threads=2, config={"prefetch": 10, "prefetch_wait": 1.0})
    try:
        expected = []
        for duration in (0.0, 0.01, 0.5, 1.0, 10.0):
            worker.pool.average_duration = duration
            expected.append(worker._expected_starts())
        # Within half of prefetch_wait (0.5 s) two threads start 0.5 * 2 / duration jobs.
        assert expected == [10, 10, 2, 1, 0]
    finally:
        worker.pool.shutdown()
        worker.async_pool.shutdown()


def claimed_job(claim_id: int) -> Job:
    job = Job(id=uuid.uuid4())
    job.claimedexecution = ClaimedExecution(id=claim_id, job=job)
    return job


def test_the_shared_block_holds_the_waiting_jobs_and_the_last_claim_handed_out():
    block = shared_block(multiprocessing.get_context("spawn"), 3)
    waiting = Waiting(3, block)
    jobs = [claimed_job(claim_id) for claim_id in (11, 12, 13, 14, 15)]
    waiting.hand(jobs[0])  # to a thread straight from its claim
    assert [waiting.put(job) for job in jobs[1:]] == [True, True, True, False]  # full
    assert unstarted(block) == Unstarted([str(job.id) for job in jobs[1:4]], 11)

    assert waiting.take() is jobs[1]  # a thread starts it: handed, no longer waiting
    assert unstarted(block) == Unstarted([str(job.id) for job in jobs[2:4]], 12)
    waiting.hand(jobs[0])  # never lowered
    assert unstarted(block).claimed_after == 12

    given_back = waiting.close()
    assert given_back == jobs[2:4] and waiting.take() is None and not waiting.put(jobs[4])
    # Until their release commits, a crash must still find them unstarted.
    assert sorted(unstarted(block).job_ids) == sorted(str(job.id) for job in jobs[2:4])
    waiting.forget(given_back)
    assert unstarted(block) == Unstarted([], 12)


def test_a_dead_workers_unstarted_claims_go_back_untouched_and_the_rest_count_an_attempt():
    worker = Process.objects.register("worker", "worker-dead", supervisor_id=None)
    running, waiting, in_flight = (app.add.enqueue(i, i) for i in range(3))
    [first] = ReadyExecution.objects.claim(["*"], 1, worker.id)
    [second] = ReadyExecution.objects.claim(["*"], 1, worker.id)
    [third] = ReadyExecution.objects.claim(["*"], 1, worker.id)  # committed as the worker died
    assert [str(j.id) for j in (first, second, third)] == [running.id, waiting.id, in_flight.id]

    # What the supervisor does with a dead worker's block: the waiting job, and the claims
    # after the last one it handed to a thread, go back untouched; the rest are lost.
    assert worker.claims().unstarted([str(waiting.id)], first.claimed.pk).release_all() == 2
    worker.deregister(lost_with=(ProcessExitError, "worker-dead exited with status -9"))
    assert not ClaimedExecution.objects.exists()
    assert attempts_and_errors(waiting.id) == (0, [])
    assert attempts_and_errors(in_flight.id) == (0, [])
    assert attempts_and_errors(running.id) == (1, ["django_solidq.exceptions.ProcessExitError"])
    assert ReadyExecution.objects.count() == 3  # all run again
