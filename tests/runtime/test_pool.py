"""The worker's pool: how many threads are idle, and a finishing job wakes the poller."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from django_solidq.runtime.pool import Pool, PoolShutDown
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


def test_a_thread_that_ends_a_job_takes_the_next_posted_one_and_threads_start_only_as_needed():
    pool = Pool(3, on_idle=lambda: None)
    gate, ran = threading.Event(), []
    try:
        pool.post(gate.wait, 10)
        for n in range(5):  # more than the pool's threads: they queue behind the busy ones
            pool.post(ran.append, n)
        wait_for(lambda: len(ran) == 5, what="the queued calls")
        assert sorted(ran) == [0, 1, 2, 3, 4]
        assert len(pool._threads) <= 3
        assert pool.busy == 1  # the gated call still holds its thread
    finally:
        gate.set()
        pool.shutdown()
        pool.join(5)
    assert not any(thread.is_alive() for thread in pool._threads)


def test_shutdown_drops_the_calls_no_thread_started_and_refuses_new_ones():
    pool = Pool(1, on_idle=lambda: None)
    started, gate, ran = threading.Event(), threading.Event(), []

    def gated() -> None:
        started.set()
        gate.wait(10)

    try:
        pool.post(gated)
        assert started.wait(10)  # the thread has taken it: only the next call stays queued
        pool.post(ran.append, "never")
        assert pool.busy == 2
        pool.shutdown()
        assert pool.busy == 1  # the running call only
        with pytest.raises(PoolShutDown):
            pool.post(ran.append, "refused")
    finally:
        gate.set()
        pool.join(5)
    assert ran == [] and pool.busy == 0


def test_an_async_slot_is_given_back_once_when_a_thread_fails_to_start(monkeypatch):
    """The call stays queued when its thread cannot start: the slot is the queued call's
    until it runs, not given back at once as well."""
    from django_solidq.runtime import async_pool

    ran: list[str] = []
    monkeypatch.setattr(async_pool, "wraps_calls", lambda path: False)
    monkeypatch.setattr(
        async_pool.AsyncPool, "_start", lambda self, job, recorder: (ran.append(job), self._ended())
    )
    pool = async_pool.AsyncPool(10, on_idle=lambda: None)
    real_start, failed = threading.Thread.start, []

    def start_fails_once(thread: threading.Thread) -> None:
        if not failed:
            failed.append(thread.name)
            raise RuntimeError("can't start new thread")
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start_fails_once)
    try:
        with pytest.raises(RuntimeError, match="can't start"):
            pool.post(SimpleNamespace(task_path="first"), None)
        assert pool.busy == 1  # queued
        pool.post(SimpleNamespace(task_path="second"), None)  # its thread runs both
        wait_for(lambda: len(ran) == 2, what="both queued starts to run")
        wait_for(lambda: pool.busy == 0, what="both slots back")
        assert pool.idle == 10
    finally:
        pool.shutdown()
        pool.join(5)


def test_an_error_in_a_call_is_logged_and_the_thread_serves_on(caplog):
    pool = Pool(1, on_idle=lambda: None)
    ran = []

    def boom() -> None:
        raise RuntimeError("boom while recording")

    try:
        with caplog.at_level("ERROR", logger="django_solidq.worker"):
            pool.post(boom)
            pool.post(ran.append, 1)
            wait_for(lambda: ran == [1], what="the call after the error")
        assert "boom while recording" in caplog.text
        assert len(pool._threads) == 1
    finally:
        pool.shutdown()
        pool.join(5)


def test_calls_posted_back_to_back_to_an_idle_pool_each_get_a_thread():
    # A thread woken for the first call counts as waiting until it runs: the second call
    # must start another thread, not queue behind the first one's (gated) job.
    pool = Pool(3, on_idle=lambda: None)
    gate, ran = threading.Event(), []
    try:
        pool.post(ran.append, "warm-up")
        wait_for(lambda: ran == ["warm-up"] and pool.busy == 0, what="an idle thread")
        for _ in range(20):
            wait_for(lambda: pool._waiting_threads == len(pool._threads), what="idle threads")
            gate.clear()
            ran.clear()
            pool.post(gate.wait, 10)
            pool.post(ran.append, "second")
            wait_for(lambda: ran == ["second"], timeout=5, what="the second call, gate closed")
            gate.set()
            wait_for(lambda: pool.busy == 0, what="both calls")
    finally:
        gate.set()
        pool.shutdown()
        pool.join(5)


def test_an_error_in_the_feed_or_the_idle_callback_leaves_the_thread_serving(caplog):
    def broken_feed():
        raise RuntimeError("feed broke")

    def broken_idle() -> None:
        raise RuntimeError("idle callback broke")

    pool = Pool(1, on_idle=broken_idle, feed=broken_feed)
    ran: list[int] = []
    try:
        with caplog.at_level("ERROR", logger="django_solidq.worker"):
            for n in range(3):
                pool.post(ran.append, n)
                wait_for(lambda n=n: ran[-1:] == [n] and pool.busy == 0, what="each call")
        assert "feed broke" in caplog.text and "idle callback broke" in caplog.text
        assert len(pool._threads) == 1 and pool._threads[0].is_alive()
    finally:
        pool.shutdown()
        pool.join(5)
