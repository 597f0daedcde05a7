"""Pool: the worker's threads. It knows how many are idle and how long a job takes them; a
thread that ends a job starts the next one its ``feed`` gives it, else it goes idle and wakes
the poller.

Its own threads on one lock, not a ``ThreadPoolExecutor``: the executor's per-call ``Future``
(a condition, a done callback, an idle semaphore) cost about 43 µs of CPU per hand-over
against 9-10 µs here (``benchmarks/pool_dispatch.py``), and nobody waits on a result.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

Work = tuple[Callable[..., Any], tuple[Any, ...]]
SMOOTHING = 0.2  # weight of the newest job in the average duration

logger = logging.getLogger("django_solidq.worker")


class PoolShutDown(RuntimeError):
    """``post`` after ``shutdown``: the call was not taken."""


class Slots:
    """``size`` slots, ``busy`` of them taken (counted under ``_lock``)."""

    size: int
    _busy: int
    _lock: threading.Lock

    @property
    def idle(self) -> int:
        with self._lock:
            return self.size - self._busy

    @property
    def busy(self) -> int:
        with self._lock:
            return self._busy


class Pool(Slots):
    def __init__(
        self,
        size: int,
        on_idle: Callable[[], None],
        name: str = "solidq-job",
        feed: Callable[[], Work | None] | None = None,
    ) -> None:
        self.size = size
        self._on_idle = on_idle
        self._feed = feed
        self._name = name
        self._busy = 0
        self._lock = threading.Lock()
        self._posted = threading.Condition(self._lock)
        self._work: deque[Work] = deque()
        self._threads: list[threading.Thread] = []
        self._waiting_threads = 0  # threads blocked on ``_posted``
        self._shut = False
        self._last_taken = time.monotonic()  # when a thread last took posted work
        self.completed = 0  # calls ended since start
        self.average_duration = 0.0  # seconds a call takes, smoothed; 0 before the first

    def post(self, func: Callable[..., Any], *args: Any) -> None:
        """Run ``func(*args)`` in one of the pool's threads (started when first needed)."""
        with self._lock:
            if self._shut:
                raise PoolShutDown(f"{self._name}: the pool is shut down")
            self._busy += 1
            self._work.append((func, args))
            # A notified thread counts as waiting until it runs, and takes one call: wake
            # another only if the waiting threads outnumber the calls queued, else start one.
            if self._waiting_threads >= len(self._work):
                self._posted.notify()
                return
            if len(self._threads) >= self.size:
                self._queued_behind_busy_threads()
                return  # every thread is busy: the first to end its job takes it
            thread = self._new_thread()
        self._start(thread)

    def _new_thread(self) -> threading.Thread:
        """A thread for the pool, listed (under the lock); ``_start`` it once released."""
        thread = threading.Thread(
            target=self._serve, name=f"{self._name}_{len(self._threads)}", daemon=True
        )
        self._threads.append(thread)
        return thread

    def _start(self, thread: threading.Thread) -> None:
        try:
            thread.start()
        except BaseException:
            with self._lock:
                self._threads.remove(thread)
            raise  # the call stays queued for a thread that ends its job

    def _queued_behind_busy_threads(self) -> None:
        """Called (under the lock) when a call is queued because every thread is busy."""

    def _serve(self) -> None:
        """A thread's life: take posted work until the pool shuts down."""
        while (work := self._next_posted()) is not None:
            try:
                self._run(*work)
            finally:
                with self._lock:
                    self._busy -= 1
                self._safely(self._on_idle)

    def _next_posted(self) -> Work | None:
        with self._lock:
            while not self._work:
                if self._shut:
                    return None
                self._waiting_threads += 1
                try:
                    self._posted.wait()
                finally:
                    self._waiting_threads -= 1
            self._last_taken = time.monotonic()
            return self._work.popleft()

    def _run(self, func: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """Run ``func``, then what the feed gives, until it gives nothing."""
        work: Work | None = (func, args)
        while work is not None:
            began = time.monotonic()
            try:
                self._safely(self._perform, work[0], *work[1])
            finally:
                self._count(time.monotonic() - began)
            work = self._safely(self._feed) if self._feed is not None else None

    def _safely(self, func: Callable[..., Any], *args: Any) -> Any:
        """``func(*args)``, or None if it raised: a thread serves on whatever a call does. A
        job's own errors are recorded by ``perform``; what reaches here is one in recording
        it, or in the feed (the heartbeat gives back a claim left behind)."""
        try:
            return func(*args)
        except BaseException:
            logger.exception("%s: a job thread's call raised", self._name)
            return None

    def _perform(self, func: Callable[..., Any], *args: Any) -> Any:
        return func(*args)

    def _count(self, duration: float) -> None:
        with self._lock:
            self.completed += 1
            previous = self.average_duration or duration
            self.average_duration = previous + SMOOTHING * (duration - previous)

    def shutdown(self) -> None:
        """Drop work not yet started, refuse new work, and let each thread end once its job
        does."""
        with self._lock:
            self._shut = True
            self._busy -= len(self._work)
            self._work.clear()
            self._posted.notify_all()

    def join(self, timeout: float) -> None:
        """After ``shutdown``: wait up to ``timeout`` for the threads to end."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            if thread.ident is not None:  # started
                thread.join(max(0.0, deadline - time.monotonic()))
