"""The worker's pool: how many threads are idle, and a finishing job wakes the poller."""

from __future__ import annotations

import threading

from django_solidq.runtime.pool import Pool
from tests.harness import wait_for


def test_the_pool_counts_busy_threads_and_wakes_its_worker_as_each_frees_up():
    woken: list[int] = []
    pool = Pool(2, on_idle=lambda: woken.append(1))
    gates = [threading.Event(), threading.Event()]
    try:
        assert (pool.idle, pool.busy) == (2, 0)
        for gate in gates:
            pool.post(gate.wait, 10)
        assert (pool.idle, pool.busy) == (0, 2)  # counted when posted, not when started
        gates[0].set()
        wait_for(lambda: pool.idle == 1, what="one thread to free up")
        assert woken == [1]
        gates[1].set()
        wait_for(lambda: pool.idle == 2, what="both threads to free up")
        assert len(woken) == 2
    finally:
        for gate in gates:
            gate.set()
        pool.shutdown()


def test_a_job_that_raises_frees_its_thread_too():
    woken = threading.Event()
    pool = Pool(1, on_idle=woken.set)

    def boom() -> None:
        raise RuntimeError("boom")

    try:
        pool.post(boom)
        wait_for(woken.is_set, what="the wake-up")
        assert pool.idle == 1
    finally:
        pool.shutdown()
