"""Pool: the worker's threads. It knows how many are idle; a finishing job wakes the poller."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class Pool:
    def __init__(self, size: int, on_idle: Callable[[], None], name: str = "solidq-job") -> None:
        self.size = size
        self._on_idle = on_idle
        self._busy = 0
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix=name)

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
        future = self._executor.submit(self._perform, func, *args)
        future.add_done_callback(self._done)

    def _perform(self, func: Callable[..., Any], *args: Any) -> Any:
        return func(*args)

    def _done(self, future: Future[Any]) -> None:
        with self._lock:
            self._busy -= 1
        self._on_idle()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
