"""AsyncPool: a worker process's ``async def`` jobs, up to ``async_concurrency`` at once, their
coroutines together on the process's ``EventLoop``.

What surrounds a coroutine — the job log, ``task_started``, the task's hooks, recording the
outcome — is sync code that may use the ORM, which Django forbids on an event loop's thread.
A job whose call nothing wraps (no ``SOLIDQ["MIDDLEWARE"]``, no ``around`` hooks on its
task) runs in two *steps* in a few threads of their own: start it (log, ``task_started``,
``before`` hooks, build the coroutine) and hand the coroutine to the loop; once it is done,
end it (``after`` hooks, record the outcome). No thread waits for a coroutine, so a few
serve hundreds of jobs. A job whose call is wrapped keeps the whole chain in one thread: a
*bridge* thread per job in flight, parked while its coroutine runs on the loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from django.db import close_old_connections, connections

from django_solidq import hooks, joblog
from django_solidq.models import Job
from django_solidq.runtime.event_loop import EventLoop, result_of
from django_solidq.runtime.execution import Attempt, Recorder, perform_in_thread, timeout_of
from django_solidq.runtime.liveness import close_dead_connections
from django_solidq.runtime.middleware import arguments, run_after, run_before, wraps_calls
from django_solidq.runtime.pool import Pool, PoolShutDown, Slots

logger = logging.getLogger("django_solidq.worker")
STEP_THREADS = 4  # threads per process for the steps of async jobs nothing wraps
STALLED = 0.1  # seconds no step thread took queued work: another thread starts
MOST_STEP_THREADS = 32  # and no more than these (each may hold a database connection)
Started = tuple[Coroutine[Any, Any, Any], contextvars.Context, float | None]


class AsyncPool(Slots):
    def __init__(self, size: int, on_idle: Callable[[], None], name: str = "solidq-async") -> None:
        self.size = size
        self.name = name
        self._on_idle = on_idle
        self._lock = threading.Lock()
        self._busy = 0  # jobs posted and not yet ended
        self.loop = EventLoop(name)
        self._steps = StepPool(size, name=f"{name}-step")
        self._bridges = BridgePool(size, on_idle=_nothing, name=f"{name}-job")

    @property
    def max_in_flight(self) -> int:
        """The most coroutines on the loop at once since start (a measure; tests read it)."""
        return self.loop.max_in_flight

    def post(self, job: Job, recorder: Recorder) -> None:
        """Perform ``job`` (its task is ``async def``): in steps, or in a bridge thread."""
        with self._lock:
            self._busy += 1
        try:
            if wraps_calls(job.task_path):
                self._bridges.post(self._bridge, job, recorder)
            else:
                self._steps.post(self._start, job, recorder)
        except PoolShutDown:
            self._ended()  # not taken (a failed thread start leaves the call queued)
            raise

    def _bridge(self, job: Job, recorder: Recorder) -> None:
        try:
            perform_in_thread(job, recorder, None, self.loop)
        finally:
            self._ended()

    def _start(self, job: Job, recorder: Recorder) -> None:
        """Step one: start the attempt and hand its coroutine to the loop. Both steps run in
        the attempt's own context, so what a ``before`` hook sets there its ``after`` hook
        sees, and nothing of it stays in the step thread."""
        attempt = Attempt(job, recorder)
        context = contextvars.copy_context()
        try:
            started = context.run(self._begin, attempt)
        except BaseException:
            recorder.settle([job])
            self._ended()
            raise
        if started is None:  # the attempt failed as it started, and is recorded
            self._ended()
            return
        coroutine, coroutine_context, timeout = started

        def done(task: asyncio.Future[Any]) -> None:
            try:
                self._steps.post(self._end, attempt, context, task)
            except PoolShutDown:  # stopping past shutdown_timeout: the supervisor settles it
                logger.warning("%s: stopped before recording job %s", self.name, job.pk)

        # Outside ``context``: the second step may enter it as soon as the coroutine is done.
        self.loop.submit(coroutine, timeout, done, coroutine_context)

    def _begin(self, attempt: Attempt) -> Started | None:
        with joblog.running(attempt.fields):
            result = attempt.start()
            if result is None:
                return None
            try:
                run_before(result)
                args, kwargs = arguments(result)
                coroutine = result.task.func(*args, **kwargs)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # as in a sync job: the attempt's failure
                attempt.fail(exc)
                return None
            # The coroutine runs in a copy of this context: its log lines carry the job.
            return coroutine, contextvars.copy_context(), timeout_of(result.task)

    def _end(self, attempt: Attempt, context: contextvars.Context, task: Any) -> None:
        """Step two: the coroutine is done: run the ``after`` hooks, record the outcome."""
        try:
            context.run(self._finish, attempt, task)
        except BaseException:
            attempt.recorder.settle([attempt.job])
            raise
        finally:
            self._ended()

    def _finish(self, attempt: Attempt, task: asyncio.Future[Any]) -> None:
        with joblog.running(attempt.fields):
            result = attempt.result
            try:
                value = result_of(task)
                run_after(result, value)
                value = attempt.checked(value)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # CancelledError too: the attempt's failure
                attempt.fail(exc)
            else:
                attempt.succeed(value)

    def _ended(self) -> None:
        with self._lock:
            self._busy -= 1
        self._on_idle()

    def shutdown(self) -> None:
        """Stop the loop and drop the steps not started (called once the jobs ended, or past
        ``shutdown_timeout``: the supervisor settles what is left when the process exits)."""
        self.loop.stop()
        self._steps.shutdown()
        self._bridges.shutdown()

    def join(self, timeout: float) -> None:
        self._steps.join(timeout)
        self._bridges.join(timeout)


class StepPool(Pool):
    """Threads that run the steps of async jobs: ``STEP_THREADS`` of them; when steps stay
    queued ``STALLED`` seconds while every thread is busy (hooks or signal receivers that
    block), a tender thread starts one more, and so on, up to ``size`` (at most
    ``MOST_STEP_THREADS``). They keep their database connections between steps, as a sync
    job's thread does between jobs (``CONN_MAX_AGE`` applies)."""

    def __init__(self, size: int, name: str) -> None:
        super().__init__(min(STEP_THREADS, size), on_idle=_nothing, name=name)
        self._most = min(size, MOST_STEP_THREADS)
        self._behind = threading.Event()
        self._tender = threading.Thread(target=self._tend, name=f"{name}-tender", daemon=True)
        self._tender.start()

    def _queued_behind_busy_threads(self) -> None:
        self._behind.set()

    def shutdown(self) -> None:
        super().shutdown()
        self._behind.set()  # the tender ends

    def _tend(self) -> None:
        while not self._shut:
            self._behind.wait()
            self._behind.clear()
            while True:  # until the queue is empty: every STALLED seconds, look
                time.sleep(STALLED)
                with self._lock:
                    if self._shut or not self._work:
                        break
                    stalled = time.monotonic() - self._last_taken >= STALLED
                    if not stalled or len(self._threads) >= self._most:
                        continue
                    thread = self._new_thread()
                with hooks.reported(f"{self._name}: starting a thread"):
                    self._start(thread)

    def _perform(self, func: Any, *args: Any) -> Any:
        with hooks.reported(f"{self._name}: checking connections"):
            close_dead_connections()
        try:
            return func(*args)
        finally:
            close_old_connections()


class BridgePool(Pool):
    """One thread per wrapped async job in flight; it closes any database connection its job
    opened when the job ends (a few hundred idle threads must not hold connections)."""

    def _perform(self, func: Any, *args: Any) -> Any:
        try:
            return func(*args)
        finally:
            for connection in connections.all(initialized_only=True):
                connection.close()


def _nothing() -> None:
    pass
