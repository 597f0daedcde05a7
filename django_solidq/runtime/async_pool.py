"""AsyncPool: ``async def`` tasks of a worker process, many at a time on one event loop.

The worker's ``threads`` run sync tasks one each. An async task's coroutine runs instead on the
process's single event loop, up to ``async_concurrency`` at once. What surrounds the coroutine
— the job log, ``task_started``/``task_finished``, middleware, the task's hooks, recording the
outcome — is sync code that may use the ORM, which Django forbids on an event loop's thread;
so each async job in flight has a small *bridge* thread that runs exactly that code, as a pool
thread runs it for a sync job, and waits (parked, no CPU) while its coroutine runs on the loop.
A bridge thread opens a database connection only if that code uses one (a failed attempt is
recorded there), and closes it when its job ends.

The task's timeout is the loop's: at its deadline the coroutine is cancelled and the attempt
fails with ``JobTimeout``. A coroutine that blocks the loop (``time.sleep`` in ``async def``)
holds up every other async job of the process, and its timeout cannot fire until it yields.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any

from django.db import connections

from django_solidq.exceptions import JobTimeout
from django_solidq.runtime.pool import Pool

Runner = Callable[[Coroutine[Any, Any, Any]], Any]

# While a bridge thread performs an async job: how to run its coroutine on the loop.
current_runner: contextvars.ContextVar[Runner | None] = contextvars.ContextVar(
    "solidq_async_runner", default=None
)


class AsyncPool(Pool):
    """A ``Pool`` whose threads are bridges: each performs one async job around its
    coroutine, which it runs on the shared loop with ``run``."""

    def __init__(self, size: int, on_idle: Callable[[], None], name: str = "solidq-async") -> None:
        super().__init__(size, on_idle, name=f"{name}-job")
        self._in_flight = 0  # coroutines running on the loop right now
        self.max_in_flight = 0  # the most at once since start (a measure; tests read it)
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._loop_thread.start()

    def _perform(self, func: Callable[..., Any], *args: Any) -> Any:
        try:
            return func(*args)
        finally:
            for connection in connections.all(initialized_only=True):
                connection.close()

    def runner(self, timeout: float | None) -> Runner:
        """A runner for one job: its coroutine on the loop, under ``timeout`` seconds."""
        return lambda coroutine: self.run(coroutine, timeout)

    def run(self, coroutine: Coroutine[Any, Any, Any], timeout: float | None = None) -> Any:
        """Run ``coroutine`` on the loop, in a copy of the calling thread's context (the job
        log's fields), and wait for its value or exception. Call from a bridge thread."""
        outcome: Future[Any] = concurrent.futures.Future()
        context = contextvars.copy_context()

        def start() -> None:
            task = self._loop.create_task(self._bounded(coroutine, timeout), context=context)
            task.add_done_callback(lambda done: _copy(done, outcome))

        self._loop.call_soon_threadsafe(start)
        return outcome.result()

    async def _bounded(self, coroutine: Coroutine[Any, Any, Any], timeout: float | None) -> Any:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            if not timeout:
                return await coroutine
            deadline = asyncio.timeout(timeout)
            try:
                async with deadline:
                    return await coroutine
            except TimeoutError as exc:
                if not deadline.expired():
                    raise  # the task's own TimeoutError
                raise JobTimeout(f"the job ran longer than its timeout of {timeout:g} s") from exc
        finally:
            with self._lock:
                self._in_flight -= 1

    def shutdown(self) -> None:
        super().shutdown()
        self._loop.call_soon_threadsafe(self._loop.stop)


def _copy(task: asyncio.Task[Any], outcome: Future[Any]) -> None:
    if task.cancelled():
        outcome.set_exception(asyncio.CancelledError())
    elif (exc := task.exception()) is not None:
        outcome.set_exception(exc)
    else:
        outcome.set_result(task.result())
