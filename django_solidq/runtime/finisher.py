"""Finisher: records a worker's successful jobs in batches, off the job threads.

Jobs that finish close together share one transaction, which lifts a worker's throughput
several times over (commits, not Python, bound a fast job queue). The cost: if the worker dies
after a job returned but before its batch commits (milliseconds), that job is re-run as a lost
attempt — the at-least-once guarantee every crash already has. ``SOLIDQ["BATCH_FINISHES"] =
False`` records each success in its job's thread instead.
"""

from __future__ import annotations

import queue
import threading

from django.tasks import TaskResult

from django_solidq import hooks
from django_solidq.runtime.execution import Recorder, Success, record_successes
from django_solidq.runtime.liveness import close_dead_connections

MAX_BATCH = 200


class Finisher(Recorder):
    def __init__(self, worker_id: str) -> None:
        super().__init__(worker_id)
        self._queue: queue.SimpleQueue[Success | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="solidq-finisher", daemon=True)
        self._thread.start()

    def add(self, success: Success) -> TaskResult | None:
        self._queue.put(success)
        return None

    def stop(self, timeout: float | None = None) -> None:
        """Record everything queued so far, then end the thread."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            batch, stopping = self._next_batch()
            if batch:
                with hooks.reported("finisher", reset=True):
                    close_dead_connections()
                    record_successes(batch, self.worker_id)
                self.settle([success.job for success in batch])
            if stopping:
                return

    def _next_batch(self) -> tuple[list[Success], bool]:
        first = self._queue.get()
        if first is None:
            return [], True
        batch = [first]
        while len(batch) < MAX_BATCH:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False
