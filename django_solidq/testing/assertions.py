"""``assert_enqueued``, ``assert_no_enqueued`` and ``assert_performed``: plain functions for
pytest and ``django.test.TestCase`` alike; a failure lists what there was instead."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.tasks import TaskResult
from django.utils import timezone

from django_solidq.arguments import normalize_arguments
from django_solidq.models import Job

from .records import EnqueuedJob, TaskRef, task_path

# How far a job's run_after may be from the expected time (the test itself takes time).
RUN_AFTER_TOLERANCE = timedelta(seconds=2)
JobSource = Iterable[EnqueuedJob | TaskResult | Job] | None


def waiting_jobs() -> list[EnqueuedJob]:
    """Jobs that have not run to an end: ready, scheduled (retries too), blocked or running."""
    return [EnqueuedJob.of(job) for job in Job.objects.live().order_by("enqueued_at")]


def performed_jobs() -> list[EnqueuedJob]:
    """Jobs with at least one finished attempt (needs ``PRESERVE_FINISHED_JOBS``, the default,
    to see successful ones)."""
    attempted = Job.objects.exclude(last_attempted_at=None).order_by("last_attempted_at")
    return [EnqueuedJob.of(job) for job in attempted]


def assert_enqueued(
    task: TaskRef | None = None,
    *,
    jobs: JobSource = None,
    count: int | None = None,
    **expected: Any,
) -> list[EnqueuedJob]:
    """Assert that jobs of ``task`` with these ``args``, ``kwargs``, ``queue``, ``priority``
    and ``run_after`` (a datetime, or a timedelta from now) are waiting: at least one, or
    exactly ``count``. ``jobs`` (``captured_jobs()``, results) replaces the database's
    waiting jobs. Returns the matching jobs."""
    return _assert(waiting_jobs, "enqueued", task, jobs, count, expected)


def assert_no_enqueued(
    task: TaskRef | None = None, *, jobs: JobSource = None, **expected: Any
) -> None:
    """Assert that no waiting job matches (any task when ``task`` is None)."""
    _assert(waiting_jobs, "enqueued", task, jobs, 0, expected)


def assert_performed(
    task: TaskRef | None = None,
    *,
    jobs: JobSource = None,
    count: int | None = None,
    **expected: Any,
) -> list[EnqueuedJob]:
    """Assert that jobs of ``task`` (with these options, as ``assert_enqueued``) have run:
    at least one, or exactly ``count``."""
    return _assert(performed_jobs, "performed", task, jobs, count, expected)


def _assert(
    source: Any, what: str, task: TaskRef | None, jobs: JobSource, count: int | None,
    expected: dict[str, Any],
) -> list[EnqueuedJob]:  # fmt: skip
    unknown = set(expected) - {"args", "kwargs", "queue", "priority", "run_after"}
    if unknown:
        raise TypeError(f"Unexpected keyword arguments: {', '.join(sorted(unknown))}")
    path = task_path(task) if task is not None else None
    pool = source() if jobs is None else [EnqueuedJob.of(job) for job in jobs]
    wanted = _normalized(path, expected)
    found = [job for job in pool if _matches(job, path, wanted)]
    if (count is None and not found) or (count is not None and len(found) != count):
        raise AssertionError(_message(what, path, wanted, count, found, pool))
    return found


def _normalized(path: str | None, expected: dict[str, Any]) -> dict[str, Any]:
    """Expected arguments as they are stored (tuples become lists), run_after as a time."""
    wanted = dict(expected)
    args, kwargs = normalize_arguments(
        path or "the expected job", wanted.get("args") or [], wanted.get("kwargs") or {}
    )
    if "args" in wanted:
        wanted["args"] = args
    if "kwargs" in wanted:
        wanted["kwargs"] = kwargs
    if isinstance(wanted.get("run_after"), timedelta):
        wanted["run_after"] = timezone.now() + wanted["run_after"]
    return wanted


def _matches(job: EnqueuedJob, path: str | None, wanted: dict[str, Any]) -> bool:
    if path is not None and job.task_path != path:
        return False
    for name, value in wanted.items():
        actual = getattr(job, name)
        if name == "run_after" and value is not None and actual is not None:
            if abs(actual - value) > RUN_AFTER_TOLERANCE:
                return False
        elif actual != value:
            return False
    return True


def _message(
    what: str, path: str | None, wanted: dict[str, Any], count: int | None,
    found: Sequence[EnqueuedJob], pool: Sequence[EnqueuedJob],
) -> str:  # fmt: skip
    options = ", ".join(f"{name}={_show(value)}" for name, value in wanted.items())
    subject = f"{path or 'any task'}" + (f" with {options}" if options else "")
    expected = "at least 1" if count is None else f"exactly {count}"
    lines = [f"Expected {expected} {what} job(s) of {subject}; found {len(found)}."]
    lines.append(f"{what.capitalize()} jobs ({len(pool)}):" if pool else f"No {what} jobs.")
    lines += [f"  - {job}" for job in pool]
    return "\n".join(lines)


def _show(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else repr(value)
