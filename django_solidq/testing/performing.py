"""Run jobs in the test's own process through the worker's ``perform``: middleware, hooks,
retry and discard rules, signals — everything but the timeout watchdog."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from django.tasks import Task, TaskResult
from django.tasks.exceptions import InvalidTask
from django.tasks.signals import task_enqueued
from django.utils import timezone

from django_solidq import signals
from django_solidq.backend import SolidQueueBackend
from django_solidq.models import ClaimedExecution, Job, ReadyExecution, ScheduledExecution
from django_solidq.runtime.execution import Recorder, perform

from .records import Selector, wanted

TEST_WORKER = "test-worker"
FAR_FUTURE = timedelta(days=365 * 100)


class PerformedJobs(list[TaskResult]):
    """The results of ``perform_enqueued_jobs(...)``; as a context manager, it also performs
    the jobs enqueued inside the block when the block ends (and adds their results)."""

    def __init__(
        self, results: list[TaskResult], run: Callable[..., list[TaskResult]], follow: bool
    ) -> None:
        super().__init__(results)
        self._run, self._follow = run, follow
        self._ids: set[str] = set()

    def __enter__(self) -> PerformedJobs:
        task_enqueued.connect(self._note, weak=False)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._follow or kind is not None:
            task_enqueued.disconnect(self._note)
        if kind is None:
            try:  # following, what the jobs enqueue joins the ids while they run
                self.extend(self._run(self._ids))
            finally:
                task_enqueued.disconnect(self._note)

    def _note(self, sender: Any, task_result: TaskResult, **kwargs: Any) -> None:
        self._ids.add(str(task_result.id))


def perform_enqueued_jobs(
    queues: Sequence[str] = ("*",),
    include_scheduled: bool = False,
    limit: int = 10_000,
    *,
    only: Selector | None = None,
    exclude: Selector | None = None,
    at: datetime | timedelta | None = None,
    follow: bool = True,
) -> PerformedJobs:
    """Perform the jobs due ``at`` (default now; a timedelta is from now), one at a time the
    way a worker does, until none is left. Returns their final results in the order they ran.

    ``only`` / ``exclude`` pick jobs by task (a task, a dotted path, several, or a callable
    taking the Job). ``follow`` (default) also performs the jobs those jobs enqueue and the
    retries they schedule, when due by ``at``. ``include_scheduled=True`` is ``at`` a century
    from now: every scheduled job and retry runs. ``limit`` stops a job that re-enqueues
    itself forever. As a context manager (``with perform_enqueued_jobs():``) the call performs
    what is due already, and the end of the block what the block enqueued.
    """
    horizon = _horizon(FAR_FUTURE if include_scheduled else at)
    pick = wanted(only, exclude)

    def run(ids: set[str] | None) -> list[TaskResult]:
        chosen = pick if ids is None else both(lambda job: str(job.pk) in ids, pick)
        return _perform_due(list(queues), horizon, chosen, follow, limit)

    return PerformedJobs(run(None), run, follow)


def _horizon(at: datetime | timedelta | None) -> datetime:
    if isinstance(at, timedelta):
        return timezone.now() + at
    return at or timezone.now()


Pick = Callable[[Job], bool] | None  # which jobs to perform; None: every job


def both(first: Callable[[Job], bool], second: Pick) -> Callable[[Job], bool]:
    return first if second is None else (lambda job: first(job) and second(job))


def _perform_due(
    queues: list[str], horizon: datetime, pick: Pick, follow: bool, limit: int
) -> list[TaskResult]:
    if not follow:  # only the jobs waiting now, not what they enqueue
        present = {str(pk) for pk in Job.objects.live().values_list("id", flat=True)}
        pick = both(lambda job: str(job.pk) in present, pick)
    results: list[TaskResult] = []
    while len(results) < limit:
        _dispatch_due(horizon, pick)
        job = claim_next(queues, pick)
        if job is None:
            return results
        result = perform_claimed(job)
        if result is not None:
            results.append(result)
    raise RuntimeError(f"perform_enqueued_jobs stopped after {limit} jobs; is a job looping?")


def _dispatch_due(horizon: datetime, pick: Pick) -> None:
    """Scheduled jobs due by ``horizon`` become ready now (as the admin's "Run now")."""
    due = ScheduledExecution.objects.filter(scheduled_at__lte=horizon).select_related("job")
    chosen = [execution.pk for execution in due if pick is None or pick(execution.job)]
    if chosen:
        ScheduledExecution.objects.filter(pk__in=chosen).run_now()


def claim_next(queues: list[str], pick: Pick) -> Job | None:
    """Claim the next ready job ``pick`` accepts, in the order a worker would. With a
    ``pick``, every ready job is claimed and the others go back to ready untouched."""
    if pick is None:
        claimed = ReadyExecution.objects.claim(queues, 1, None)
        return claimed[0] if claimed else None
    claimed = ReadyExecution.objects.claim(queues, ReadyExecution.objects.count(), None)
    chosen = next((job for job in claimed if pick(job)), None)
    others = [job.pk for job in claimed if job is not chosen]
    if others:
        ClaimedExecution.objects.filter(job_id__in=others).release_all()
    return chosen


def perform_claimed(job: Job) -> TaskResult | None:
    """The worker's ``perform`` of a claimed job, its success recorded at once."""
    return perform(job, Recorder(TEST_WORKER))


def perform_now(task: Task, *args: Any, **kwargs: Any) -> TaskResult:
    """Run ``task`` now in this process as a worker would (Active Job's ``perform_now``):
    middleware, hooks, ``retry_on`` and ``discard_on`` apply, and the attempt is recorded as a
    job. Returns the result: SUCCESSFUL, READY (a retry is scheduled) or FAILED (discarded).
    A job that fails for good raises its exception, as ``task.call()`` would."""
    backend = task.get_backend()
    if not isinstance(backend, SolidQueueBackend):
        raise InvalidTask(f"perform_now needs a SolidQueueBackend task; {task.name} is not one.")
    job, _ = backend.prepare(dataclasses.replace(task, run_after=None), args, kwargs)
    stored = Job.objects.enqueue(job)
    claimed = claim_next(["*"], lambda row: row.pk == stored.pk)
    if claimed is None:
        raise RuntimeError(f"Job {stored.pk} of {task.name} is not ready (blocked or paused?).")
    failures: list[BaseException] = []

    def failed(sender: Any, task_result: TaskResult, exception: BaseException, **kw: Any) -> None:
        if str(task_result.id) == str(stored.pk):
            failures.append(exception)

    signals.task_failed.connect(failed, weak=False)
    try:
        result = perform_claimed(claimed)
    finally:
        signals.task_failed.disconnect(failed)
    if failures:
        raise failures[0]
    return result if result is not None else backend.get_result(str(stored.pk))


def enqueued_jobs(task_path: str | None = None) -> list[Job]:
    """Jobs not yet finished (ready, scheduled, blocked or running), optionally of one task."""
    jobs = Job.objects.live()
    if task_path is not None:
        jobs = jobs.filter(task_path=task_path)
    return list(jobs.order_by("enqueued_at"))
