"""Perform one claimed job: resolve its task, call it, record the outcome, send signals.

A job's failure is the job's, never the worker's: every exception a task raises (or its
import raises) ends as a recorded failed attempt.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from inspect import iscoroutinefunction
from typing import Any, NamedTuple

from django.db import close_old_connections
from django.tasks import Task, TaskResult, TaskResultStatus
from django.tasks.signals import task_finished, task_started
from django.utils.module_loading import import_string

from django_solidq import hooks, joblog, signals, verified
from django_solidq.arguments import normalize_arguments
from django_solidq.backend import SolidQueueBackend
from django_solidq.conf import get_config
from django_solidq.errors import exception_entry
from django_solidq.models import Job
from django_solidq.results import load_task, to_result
from django_solidq.retries import Outcome, decide
from django_solidq.runtime.event_loop import EventLoop, current_runner
from django_solidq.runtime.liveness import close_dead_connections
from django_solidq.runtime.middleware import perform_chain
from django_solidq.runtime.timeouts import Watchdog

logger = logging.getLogger("django_solidq.worker")


class Success(NamedTuple):
    job: Job
    task: Task
    value: Any


class Recorder:
    """Where a performed job's outcome goes: a success recorded now, or batched (see
    Finisher). It knows which claimed jobs are still in hand — claimed, and their outcome not
    yet recorded — so that the worker can tell a stranded claim from one of its own."""

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self._held: set[str] = set()
        self._lock = threading.Lock()

    def add(self, success: Success) -> TaskResult | None:
        try:
            results = record_successes([success], self.worker_id)
        finally:
            self.settle([success.job])
        return results[0] if results else None

    def fail(self, job: Job, task: Task | None, exc: BaseException) -> TaskResult | None:
        try:
            return _failed(job, task, exc, self.worker_id)
        finally:
            self.settle([job])

    def hold(self, jobs: Iterable[Job]) -> None:
        """These jobs were just claimed for this worker's threads."""
        with self._lock:
            self._held.update(str(job.pk) for job in jobs)

    def settle(self, jobs: Iterable[Job]) -> None:
        """These jobs' outcomes are recorded (or given up on): their claims are not ours to
        keep any more."""
        with self._lock:
            self._held.difference_update(str(job.pk) for job in jobs)

    def held(self) -> set[str]:
        with self._lock:
            return set(self._held)


class Attempt:
    """One attempt of a claimed job, step by step: ``start`` it (log it, load its task, send
    ``task_started``), call the task and check its value (``checked``), then ``succeed`` or
    ``fail``. Run each step inside ``joblog.running(attempt.fields)``."""

    def __init__(self, job: Job, recorder: Recorder) -> None:
        self.job = job
        self.recorder = recorder
        self.fields = joblog.fields_of(job)
        self.task: Task | None = None
        self.result: Any = None  # the TaskResult the task is called with, once started
        self._began = 0.0

    def start(self) -> TaskResult | None:
        """The task's result to call it with; None if the task does not load (the attempt is
        then recorded as failed)."""
        joblog.started(self.fields)
        try:
            self.task = load_task(self.job)
        except Exception as exc:
            self.fail(exc)
            return None
        self.result = to_result(self.job, self.task, running_worker=self.recorder.worker_id)
        task_started.send(SolidQueueBackend, task_result=self.result)
        self._began = time.monotonic()
        return self.result

    def checked(self, value: Any) -> Any:
        """The call's return value as it will be stored (raises if JSON cannot hold it)."""
        assert self.task is not None
        _, checked = normalize_arguments(self.task.module_path, [], {"return value": value})
        return checked["return value"]

    def succeed(self, value: Any) -> TaskResult | None:
        """Record the ``checked`` return value."""
        assert self.task is not None
        joblog.performed(self.fields, time.monotonic() - self._began)
        return self.recorder.add(Success(self.job, self.task, value))

    def fail(self, exc: BaseException) -> TaskResult | None:
        return self.recorder.fail(self.job, self.task, exc)


def perform(
    job: Job,
    recorder: Recorder,
    watchdog: Watchdog | None = None,
    event_loop: EventLoop | None = None,
) -> TaskResult | None:
    """Run a claimed job to its outcome. Returns its final result when recorded at once.

    With a ``watchdog``, the attempt runs under the task's timeout. With an ``event_loop``
    (the job's task is ``async def``), its coroutine runs on that loop, under the task's
    timeout there, while this thread waits."""
    attempt = Attempt(job, recorder)
    with joblog.running(attempt.fields):
        result = attempt.start()
        if result is None:
            return None
        timeout = timeout_of(result.task)
        guard: AbstractContextManager[None]
        if event_loop is not None:
            guard = _running_on(event_loop, timeout)
        elif watchdog is not None:
            guard = watchdog.watch(str(job.pk), timeout)
        else:
            guard = nullcontext()
        try:
            with guard:
                value = attempt.checked(perform_chain()(result))
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit too: a job's exit is the job's failure
            return attempt.fail(exc)
        return attempt.succeed(value)


@contextmanager
def _running_on(loop: EventLoop, timeout: float | None) -> Iterator[None]:
    token = current_runner.set(loop.runner(timeout))
    try:
        yield
    finally:
        current_runner.reset(token)


@functools.lru_cache(maxsize=1024)
def runs_async(task_path: str) -> bool:
    """Whether the task at ``task_path`` is ``async def`` (False if it does not import: the
    attempt then fails in a pool thread, as any import error does)."""
    try:
        task = import_string(task_path)
    except Exception:
        return False
    return isinstance(task, Task) and iscoroutinefunction(task.func)


def timeout_of(task: Task) -> float | None:
    timeout = getattr(task, "timeout", None)
    return float(timeout) if timeout else get_config().default_timeout


def record_successes(successes: list[Success], worker_id: str) -> list[TaskResult]:
    """Finish the jobs in one transaction, then send ``task_finished`` for each."""
    # Permits and unique keys are given back in the finish's own transaction.
    finished = verified.finish([(s.job, s.value) for s in successes], worker_id)
    done = {job.pk for job in finished}
    results = []
    for success in successes:
        if success.job.pk not in done:
            logger.warning("Job %s finished after its claim was recovered", success.job.pk)
            continue
        result = to_result(success.job, success.task, status=TaskResultStatus.SUCCESSFUL)
        task_finished.send(SolidQueueBackend, task_result=result)
        results.append(result)
    return results


def _failed(job: Job, task: Task | None, exc: BaseException, worker_id: str) -> TaskResult | None:
    """Record the attempt's error and what follows it (retry, discard or fail), then tell."""
    claim = job.claimed
    assert claim is not None
    fields = joblog.fields_of(job)
    error = exception_entry(exc, worker_id)
    outcome = decide(job, task, exc)
    if not verified.fail(claim, job, error, worker_id, outcome):
        return None
    _log_failure(fields, outcome, exc)
    if task is None:
        return None
    retried = outcome.action == "retry"
    status = TaskResultStatus.READY if retried else TaskResultStatus.FAILED
    result = to_result(job, task, status=status)
    _announce(outcome, result, exc)
    return result


def _log_failure(fields: dict[str, Any], outcome: Outcome, exc: BaseException) -> None:
    if outcome.action == "retry":
        joblog.retrying(fields, exc, outcome.delay, getattr(outcome.rule, "attempts", None))
    elif outcome.action == "discard":
        joblog.discarded(fields, exc)
    else:
        joblog.failed(fields, exc)


def _announce(outcome: Outcome, result: TaskResult, exc: BaseException) -> None:
    if outcome.action == "retry":
        signals.task_retried.send(
            SolidQueueBackend, task_result=result, exception=exc, retry_at=outcome.retry_at
        )
        return
    signal = signals.task_discarded if outcome.action == "discard" else signals.task_failed
    signal.send(SolidQueueBackend, task_result=result, exception=exc)
    task_finished.send(SolidQueueBackend, task_result=result)
    if outcome.callback is not None:
        with hooks.reported(f"{outcome.action} callback of job {result.id}"):
            outcome.callback(result, exc)


def perform_in_thread(
    job: Job,
    recorder: Recorder,
    watchdog: Watchdog | None = None,
    event_loop: EventLoop | None = None,
) -> TaskResult | None:
    """``perform`` for a pool thread; the thread keeps its database connection between jobs,
    unless it broke or died while idle."""
    close_old_connections()
    close_dead_connections()
    try:
        return perform(job, recorder, watchdog, event_loop)
    except BaseException:
        recorder.settle([job])  # whatever happened, this thread is done with it
        raise
    finally:
        close_old_connections()
