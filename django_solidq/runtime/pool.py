"""Pool: the worker's threads. It knows how many are idle and how long a job takes them; a
thread that ends a job starts the next one its ``feed`` gives it, else it goes idle and wakes
the poller."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

Work = tuple[Callable[..., Any], tuple[Any, ...]]
SMOOTHING = 0.2  # weight of the newest job in the average duration


class Pool:
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
        self._busy = 0
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix=name)
        self.completed = 0  # calls ended since start
        self.average_duration = 0.0  # seconds a call takes, smoothed; 0 before the first

    @property
    def idle(self) -> int:
        with self._lock:
            return self.size - self._busy

    @property
    def busy(self) -> int:
        with self._lock:
            return self._busy

    def post(self, func: Callable[..., Any], *args: Any) -> None:
        """Run ``func(*args)`` in one of the pool's threads."""
        with self._lock:
            self._busy += 1
        future = self._executor.submit(self._run, func, *args)
        future.add_done_callback(self._done)

    def _run(self, func: Callable[..., Any], *args: Any) -> None:
        """Run ``func``, then what the feed gives, until it gives nothing."""
        work: Work | None = (func, args)
        while work is not None:
            began = time.monotonic()
            try:
                self._perform(work[0], *work[1])
            finally:
                self._count(time.monotonic() - began)
            work = self._feed() if self._feed is not None else None

    def _perform(self, func: Callable[..., Any], *args: Any) -> Any:
        return func(*args)

    def _count(self, duration: float) -> None:
        with self._lock:
            self.completed += 1
            previous = self.average_duration or duration
            self.average_duration = previous + SMOOTHING * (duration - previous)

    def _done(self, future: Future[Any]) -> None:
        with self._lock:
            self._busy -= 1
        self._on_idle()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
