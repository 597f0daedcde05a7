"""Watchdog: enforces job timeouts inside a worker.

At a job's deadline ``JobTimeout`` is raised inside its thread (delivered at the thread's next
Python instruction, so it interrupts Python code, not a blocking C call). A job still running
``TIMEOUT_GRACE`` seconds later cannot be stopped from inside the process: the worker notes the
job on its process row and exits, and the supervisor records that attempt as a ``JobTimeout``
(others running in the process as lost attempts) and starts a replacement worker.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django_solidq.exceptions import JobTimeout

logger = logging.getLogger("django_solidq.worker")
EXIT_TIMEOUT = 4  # the child's exit status after a hard timeout


@dataclass
class Watch:
    job_id: str
    deadline: float
    interrupted: bool = False


def _raise_in(thread_id: int, exc: type[BaseException] | None) -> None:
    """Schedule ``exc`` in another thread (None clears a pending one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc else ctypes.c_void_p(0)
    )


class Watchdog:
    def __init__(
        self, grace: float, on_hard_timeout: Callable[[list[str]], None], hard: bool = True
    ) -> None:
        """``hard=False`` (thread mode: one process for everything) only logs stuck jobs."""
        self.grace = grace
        self.hard = hard
        self._reported: set[str] = set()
        self.on_hard_timeout = on_hard_timeout
        self._watches: dict[int, Watch] = {}
        self._lock = threading.Lock()
        self._watching = threading.Event()  # set while any job runs under a timeout
        self._thread = threading.Thread(target=self._run, name="solidq-watchdog", daemon=True)
        self._thread.start()

    @contextmanager
    def watch(self, job_id: str, timeout: float | None) -> Iterator[None]:
        """Run the body under ``timeout`` seconds (no limit when None)."""
        if not timeout:
            yield
            return
        ident = threading.get_ident()
        with self._lock:
            self._watches[ident] = Watch(job_id, time.monotonic() + timeout)
            self._watching.set()
        try:
            yield
        finally:
            with self._lock:
                watch = self._watches.pop(ident)
                if not self._watches:
                    self._watching.clear()
                if watch.interrupted:
                    _raise_in(ident, None)  # too late to matter: don't let it escape the job

    def _run(self) -> None:
        while True:
            self._watching.wait()  # no timeouts to watch: no wake-ups
            time.sleep(0.05)
            now = time.monotonic()
            with self._lock:
                for ident, watch in self._watches.items():
                    if now >= watch.deadline and not watch.interrupted:
                        watch.interrupted = True
                        _raise_in(ident, JobTimeout)
                stuck = [w.job_id for w in self._watches.values() if now >= w.deadline + self.grace]
            if stuck and self.hard:
                logger.error("Job(s) %s ignored their timeout; replacing this worker", stuck)
                self.on_hard_timeout(stuck)
                os._exit(EXIT_TIMEOUT)
            for job_id in set(stuck) - self._reported:
                logger.error(
                    "Job %s ignores its timeout; it cannot be stopped in thread mode", job_id
                )
                self._reported.add(job_id)
