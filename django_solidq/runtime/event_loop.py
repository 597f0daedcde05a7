"""EventLoop: a worker process's one asyncio loop, in a thread of its own, where the
coroutines of its ``async def`` jobs run together.

A coroutine runs there in the context it was submitted from (the job log's fields) and under
its task's timeout: at the deadline it is cancelled and the attempt fails with ``JobTimeout``.
Coroutines handed over while the loop is busy start together on its next turn, for one
wake-up of the loop. A coroutine that blocks the loop (``time.sleep`` in ``async def``) holds
up every other async job of the process, and its timeout cannot fire until it yields.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging
import threading
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, NamedTuple

from django_solidq.exceptions import JobTimeout

logger = logging.getLogger("django_solidq.worker")
Runner = Callable[[Coroutine[Any, Any, Any]], Any]
Done = Callable[["asyncio.Future[Any]"], None]

# While a bridge thread performs an async job: how to run its coroutine on the loop.
current_runner: contextvars.ContextVar[Runner | None] = contextvars.ContextVar(
    "solidq_async_runner", default=None
)


class EventLoop:
    def __init__(self, name: str = "solidq-async") -> None:
        self._lock = threading.Lock()
        self._starting: deque[tuple[Coroutine[Any, Any, Any], float | None, Any, Done]] = deque()
        self._in_flight = 0  # coroutines running on the loop right now
        self.max_in_flight = 0  # the most at once since start (a measure; tests read it)
        self._loop = asyncio.new_event_loop()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped:
            try:
                self._loop.run_forever()
            except (SystemExit, KeyboardInterrupt):
                # A task an async job started itself raised it (the job's own coroutine
                # cannot: ``_bounded``): asyncio stops the loop with it. Carry on.
                logger.exception("An async job's task raised SystemExit or KeyboardInterrupt")

    def submit(
        self,
        coroutine: Coroutine[Any, Any, Any],
        timeout: float | None,
        on_done: Done,
        context: contextvars.Context | None = None,
    ) -> None:
        """Start ``coroutine`` on the loop (in ``context``, else a copy of the caller's);
        ``on_done(task)`` is called on the loop's thread once it has a value or an error."""
        item = (coroutine, timeout, context or contextvars.copy_context(), on_done)
        with self._lock:
            self._starting.append(item)
            first = len(self._starting) == 1
        if first:  # later ones start with it: the loop is woken once
            self._loop.call_soon_threadsafe(self._start_submitted)

    def run(self, coroutine: Coroutine[Any, Any, Any], timeout: float | None = None) -> Any:
        """Run ``coroutine`` on the loop and wait for its value or exception (a bridge
        thread's call: it blocks)."""
        outcome: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.submit(coroutine, timeout, lambda task: _copy(task, outcome))
        return outcome.result()

    def runner(self, timeout: float | None) -> Runner:
        """A runner for one job: its coroutine on the loop, under ``timeout`` seconds."""
        return lambda coroutine: self.run(coroutine, timeout)

    def _start_submitted(self) -> None:
        with self._lock:
            items = list(self._starting)
            self._starting.clear()
        for coroutine, timeout, context, on_done in items:
            task = self._loop.create_task(self._bounded(coroutine, timeout), context=context)
            task.add_done_callback(on_done)

    async def _bounded(self, coroutine: Coroutine[Any, Any, Any], timeout: float | None) -> Any:
        self._in_flight += 1  # on the loop's thread only
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
        except (SystemExit, KeyboardInterrupt) as exc:
            # asyncio would stop the loop with these: carried out as a value, they end this
            # coroutine only, and ``result_of`` raises them where its outcome is recorded.
            return Escaped(exc)
        finally:
            self._in_flight -= 1

    def stop(self) -> None:
        self._stopped = True
        self._loop.call_soon_threadsafe(self._loop.stop)


class Escaped(NamedTuple):
    """A ``SystemExit`` or ``KeyboardInterrupt`` a coroutine raised."""

    exception: BaseException


def result_of(task: asyncio.Future[Any]) -> Any:
    """A done coroutine's value, or its exception raised (``CancelledError`` if cancelled)."""
    value = task.result()
    if isinstance(value, Escaped):
        raise value.exception
    return value


def _copy(task: asyncio.Future[Any], outcome: concurrent.futures.Future[Any]) -> None:
    try:
        outcome.set_result(result_of(task))
    except BaseException as exc:  # the coroutine's, handed to the waiting thread
        outcome.set_exception(exc)
