"""Job counters and durations, fed by django.tasks' and django_solidq's signals.

Created unregistered (``registry=None``): ``metrics.registry()`` adds them to the registry it
serves. In multiprocess mode prometheus_client writes them to ``PROMETHEUS_MULTIPROC_DIR``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.tasks import TaskResult, TaskResultStatus
from django.tasks.signals import task_enqueued, task_finished, task_started
from prometheus_client import Counter, Histogram

from django_solidq import signals

LABELS = ("task", "queue")


def _counter(name: str, what: str) -> Counter:
    return Counter(f"solidq_jobs_{name}", what, LABELS, registry=None)


ENQUEUED = _counter("enqueued", "Jobs enqueued.")
STARTED = _counter("started", "Job attempts started.")
SUCCEEDED = _counter("succeeded", "Jobs that finished successfully.")
FAILED = _counter("failed", "Jobs that failed for good (no retry left).")
RETRIED = _counter("retried", "Failed attempts followed by a scheduled retry.")
DISCARDED = _counter("discarded", "Jobs discarded (discard_on, concurrency, duplicates).")
DURATION = Histogram(
    "solidq_job_duration_seconds",
    "How long job attempts ran, whatever their outcome.",
    LABELS,
    registry=None,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
INSTRUMENTS = (ENQUEUED, STARTED, SUCCEEDED, FAILED, RETRIED, DISCARDED, DURATION)

_started: dict[str, float] = {}  # job id -> monotonic start of its running attempt
_lock = threading.Lock()


# (instrument, task, queue) -> the labelled child: ``labels()`` validates and locks on every
# call, which a bulk enqueue and a worker's every job would pay. Bounded as the instruments'
# own children are, by the task and queue pairs this process has seen.
_children: dict[tuple[Any, str, str], Any] = {}


def _child(instrument: Any, result: TaskResult) -> Any:
    key = (instrument, result.task.module_path, result.task.queue_name)
    child = _children.get(key)
    if child is None:
        child = _children[key] = instrument.labels(key[1], key[2])
    return child


def on_enqueued(sender: Any, task_result: TaskResult, **kwargs: Any) -> None:
    _child(ENQUEUED, task_result).inc()


def on_started(sender: Any, task_result: TaskResult, **kwargs: Any) -> None:
    _child(STARTED, task_result).inc()
    with _lock:
        _started[str(task_result.id)] = time.monotonic()


def _attempt_ended(result: TaskResult) -> None:
    with _lock:
        start = _started.pop(str(result.id), None)
    if start is not None:
        _child(DURATION, result).observe(time.monotonic() - start)


def on_finished(sender: Any, task_result: TaskResult, **kwargs: Any) -> None:
    _attempt_ended(task_result)
    if task_result.status == TaskResultStatus.SUCCESSFUL:
        _child(SUCCEEDED, task_result).inc()


def on_retried(sender: Any, task_result: TaskResult, **kwargs: Any) -> None:
    _attempt_ended(task_result)
    _child(RETRIED, task_result).inc()


def on_failed(sender: Any, task_result: TaskResult, **kwargs: Any) -> None:
    _child(FAILED, task_result).inc()


def on_discarded(sender: Any, task_result: TaskResult, **kwargs: Any) -> None:
    _child(DISCARDED, task_result).inc()


RECEIVERS = (
    (task_enqueued, on_enqueued),
    (task_started, on_started),
    (task_finished, on_finished),
    (signals.task_retried, on_retried),
    (signals.task_failed, on_failed),
    (signals.task_discarded, on_discarded),
)


def connect() -> None:
    """Connect the receivers (idempotent: each has a dispatch_uid)."""
    for signal, receiver in RECEIVERS:
        signal.connect(receiver, dispatch_uid=f"django_solidq.metrics.{receiver.__name__}")
