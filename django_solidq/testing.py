"""Helpers for your tests: run enqueued jobs in-process, the way a worker would."""

from __future__ import annotations

from collections.abc import Sequence

from django.tasks import TaskResult

from .models import Job, ReadyExecution, ScheduledExecution

TEST_WORKER = "test-worker"


def perform_enqueued_jobs(
    queues: Sequence[str] = ("*",), include_scheduled: bool = False, limit: int = 10_000
) -> list[TaskResult]:
    """Claim and perform ready jobs (and, optionally, scheduled ones now) until none are left.

    Jobs enqueued by the jobs themselves are performed too. Returns their final results
    in the order they ran; ``limit`` guards against a job that re-enqueues itself forever.
    """
    from .runtime.execution import Recorder, perform

    results: list[TaskResult] = []
    while len(results) < limit:
        if include_scheduled:
            _promote_all_scheduled()
        jobs = ReadyExecution.objects.claim(list(queues), 1, process_id=None)
        if not jobs:
            return results
        result = perform(jobs[0], Recorder(TEST_WORKER))
        if result is not None:
            results.append(result)
    raise RuntimeError(f"perform_enqueued_jobs stopped after {limit} jobs; is a job looping?")


def _promote_all_scheduled() -> None:
    from django.utils import timezone

    ScheduledExecution.objects.update(scheduled_at=timezone.now())
    while ScheduledExecution.objects.dispatch_next_batch(500):
        pass


def enqueued_jobs(task_path: str | None = None) -> list[Job]:
    """Jobs not yet finished (ready, scheduled, blocked or running), optionally of one task."""
    jobs = Job.objects.filter(finished_at__isnull=True, failedexecution__isnull=True)
    if task_path is not None:
        jobs = jobs.filter(task_path=task_path)
    return list(jobs.order_by("enqueued_at"))
