"""Reporting: the read-only queries of Mission Control, ``solidq_health`` and the metrics.

Nothing that enqueues, claims or finishes a job uses these; they live here, not on the
models, so that the models hold the state changes and the queries those need. Each answer
for *all* queues is a few grouped statements (``GROUP BY queue_name`` on each execution
table's queue index), never a statement per queue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connections
from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import TruncMinute
from django.utils import timezone

from django_solidq.conf import get_config

from .blocked_execution import BlockedExecution
from .claimed_execution import ClaimedExecution
from .expressions import ArgumentsText, RaisedClass
from .failed_execution import FailedExecution
from .job import Job
from .pause import Pause
from .process import Process
from .ready_execution import ReadyExecution
from .scheduled_execution import ScheduledExecution

COUNT_CAP = 10_000  # counts past this are reported as COUNT_CAP + 1 ("more than 10,000")
MAX_QUEUES = 200  # queues a report lists at most
SAMPLE = 2_000  # latest finished jobs whose waits and durations are read


# --- queues ---------------------------------------------------------------------------------


def _per_queue(rows: QuerySet[Any], queue: str = "queue_name") -> dict[str, int]:
    """How many of ``rows`` each queue holds: one ``GROUP BY`` statement."""
    grouped = rows.order_by().values(queue).annotate(n=Count("*")).values_list(queue, "n")
    return dict(grouped)


def oldest_ready() -> dict[str, datetime]:
    """When each queue's longest-waiting ready job became ready (its latency), for every
    queue with ready jobs: one grouped ``MIN`` on ``solidq_ready_queue_age``."""
    grouped = (
        ReadyExecution.objects.order_by()
        .values("queue_name")
        .annotate(oldest=Min("created_at"))
        .values_list("queue_name", "oldest")
    )
    return dict(grouped)


def paused_queues() -> set[str]:
    return set(Pause.objects.values_list("queue_name", flat=True))


def configured_queues() -> set[str]:
    """The queues workers are set to by name (``SOLIDQ["WORKERS"]``; not ``mail*`` or ``*``)."""
    return {
        name for worker in get_config().workers for name in worker.queues if not name.endswith("*")
    }


@dataclass(frozen=True)
class QueueStats:
    """One queue: pending (ready) and scheduled sizes, running and failed counts (each at
    most ``cap + 1``), how long its oldest pending job has waited, whether it is paused."""

    name: str
    pending: int
    scheduled: int
    running: int
    failed: int
    oldest: datetime | None
    latency: timedelta | None
    paused: bool

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def queue_stats(
    cap: int = COUNT_CAP, limit: int = MAX_QUEUES, now: datetime | None = None
) -> list[QueueStats]:
    """Every known queue, by name (at most ``limit``): those holding a job in an execution
    table, paused, or named by a worker. Six statements whatever the number of queues: one
    grouped count per execution table (pending with its oldest row), the pauses.

    A grouped count reads its table's queue index once, whole; counts past ``cap`` are
    reported as ``cap + 1`` ("more than"), as the capped counts per queue it replaces did
    (those stopped reading at ``cap + 1`` rows, but cost four statements per queue)."""
    now = now or timezone.now()
    ready = (
        ReadyExecution.objects.order_by()
        .values("queue_name")
        .annotate(n=Count("*"), oldest=Min("created_at"))
        .values_list("queue_name", "n", "oldest")
    )
    pending = {name: (n, oldest) for name, n, oldest in ready}
    scheduled = _per_queue(ScheduledExecution.objects.all())
    blocked = _per_queue(BlockedExecution.objects.all())
    failed = _per_queue(FailedExecution.objects.all())
    running = _per_queue(ClaimedExecution.objects.all(), "job__queue_name")
    paused = paused_queues()
    names = {*pending, *scheduled, *blocked, *failed, *running, *paused, *configured_queues()}
    stats = []
    for name in sorted(names)[:limit]:
        size, oldest = pending.get(name, (0, None))
        stats.append(
            QueueStats(
                name=name,
                pending=min(size, cap + 1),
                scheduled=min(scheduled.get(name, 0), cap + 1),
                running=running.get(name, 0),
                failed=min(failed.get(name, 0), cap + 1),
                oldest=oldest,
                latency=(now - oldest) if oldest else None,
                paused=name in paused,
            )
        )
    return stats


def distinct_values(rows: QuerySet[Any], field: str, limit: int = 100) -> list[str]:
    """Up to ``limit`` distinct values of an indexed column, smallest first, one indexed
    ``> previous ORDER BY field LIMIT 1`` probe each (a loose index scan), so the cost is
    the number of values, not of rows: for the jobs table, whose rows are too many to group.
    The admin's filter choices and the queues whose jobs have all ended."""
    found: list[str] = []
    rows = rows.exclude(**{f"{field}__isnull": True}).order_by(field)
    while len(found) < limit:
        probe = rows.filter(**{f"{field}__gt": found[-1]}) if found else rows
        value = probe.values_list(field, flat=True).first()
        if value is None:
            break
        found.append(value)
    return found


def alive_workers(alive_threshold: float) -> int:
    """Workers heartbeating within ``alive_threshold`` seconds."""
    workers = Process.objects.filter(kind="worker")
    return workers.count() - workers.stale(alive_threshold).count()


def first_worker_started() -> datetime | None:
    """When the longest-registered worker started: before it, no worker ran jobs."""
    return Process.objects.filter(kind="worker").aggregate(first=Min("created_at"))["first"]


# --- throughput and waits -------------------------------------------------------------------


def _per_minute(rows: QuerySet[Any], field: str) -> dict[datetime, int]:
    """How many of ``rows`` fall in each whole minute (UTC) of their ``field``: one grouped
    count (``count(*)``: an index-only scan where the index holds the columns)."""
    counted = (
        rows.annotate(minute=TruncMinute(field, tzinfo=UTC))
        .order_by()
        .values("minute")
        .annotate(n=Count("*"))
        .values_list("minute", "n")
    )
    return dict(counted)


def finished_since(since: datetime) -> QuerySet[Job]:
    """Jobs that finished successfully since ``since``."""
    return Job.objects.filter(finished_at__gte=since, discarded_at__isnull=True)


def failed_since(since: datetime) -> QuerySet[FailedExecution]:
    """Jobs that failed for good since ``since`` (and are still failed)."""
    return FailedExecution.objects.filter(created_at__gte=since)


def finished_per_minute(since: datetime) -> dict[datetime, int]:
    return _per_minute(finished_since(since), "finished_at")


def failed_per_minute(since: datetime) -> dict[datetime, int]:
    return _per_minute(failed_since(since), "created_at")


def first_activity(since: datetime) -> datetime | None:
    """When the first job finished or failed since ``since`` (two indexed probes)."""
    moments = [
        Job.objects.filter(finished_at__gte=since)
        .order_by("finished_at")
        .values_list("finished_at", flat=True)
        .first(),
        FailedExecution.objects.filter(created_at__gte=since)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first(),
    ]
    return min((m for m in moments if m is not None), default=None)


@dataclass
class Waits:
    """Per queue, seconds jobs waited from when they were due to their first attempt:
    ``queued`` in a queue, ``startup`` for the workers to start (due before the first
    worker started, started after it)."""

    queued: dict[str, list[float]]
    startup: dict[str, list[float]]


def waits_by_queue(since: datetime, booted: datetime | None, sample: int = SAMPLE) -> Waits:
    """The waits of the latest ``sample`` jobs finished since ``since`` (one index walk of
    ``solidq_job_finished``); ``booted``: when the first worker started (None: all queued)."""
    rows = (
        Job.objects.filter(finished_at__gte=since, started_at__isnull=False)
        .order_by("-finished_at")
        .values_list("queue_name", "enqueued_at", "scheduled_at", "started_at")[:sample]
    )
    waits = Waits({}, {})
    for queue_name, enqueued, scheduled, started in rows:
        if started is None:  # excluded above; for the type checker
            continue
        due = max(enqueued, scheduled) if scheduled else enqueued
        waited = max(0.0, (started - due).total_seconds())
        booting = booted is not None and due < booted <= started
        (waits.startup if booting else waits.queued).setdefault(queue_name, []).append(waited)
    return waits


# --- tasks and errors -----------------------------------------------------------------------


def durations_by_task(since: datetime, sample: int = SAMPLE) -> list[dict[str, Any]]:
    """Per task, the last attempt's run time over the latest ``sample`` successful jobs
    finished since ``since``: count, mean and max seconds, slowest mean first."""
    rows = (
        finished_since(since)
        .filter(last_attempted_at__isnull=False)
        .order_by("-finished_at")
        .values_list("task_path", "last_attempted_at", "finished_at")[:sample]
    )
    by_task: dict[str, list[float]] = {}
    for task_path, started, finished in rows:
        if started is not None and finished is not None:
            by_task.setdefault(task_path, []).append((finished - started).total_seconds())
    stats = [
        {"task_path": t, "count": len(s), "mean": sum(s) / len(s), "max": max(s)}
        for t, s in by_task.items()
    ]
    return sorted(stats, key=lambda row: row["mean"], reverse=True)


def top_failing_tasks(since: datetime, limit: int = 10) -> list[tuple[str, int]]:
    """The tasks with the most jobs failed since ``since``, most first."""
    rows = (
        failed_since(since)
        .order_by()
        .values("task_path")
        .annotate(n=Count("id"))
        .order_by("-n", "task_path")
        .values_list("task_path", "n")[:limit]
    )
    return list(rows)


def recent_exception_classes(limit: int, sample: int = 200) -> list[str]:
    """The exception classes of the latest ``sample`` failures, sorted, at most ``limit``."""
    recent = FailedExecution.objects.order_by("-created_at").values_list(
        "exception_class", flat=True
    )[:sample]
    return sorted(set(recent) - {""})[:limit]


def search_arguments(jobs: QuerySet[Job], term: str) -> QuerySet[Job]:
    """The ``jobs`` whose positional or keyword arguments (as JSON text) contain ``term``, in
    any case. On PostgreSQL a term of 3+ characters is looked up in a trigram index."""
    found = Q(arguments_text__icontains=term)
    # JSON text escapes quotes and backslashes, and (SQLite) non-ASCII letters: look for
    # the term as it is written there too.
    escaped = json.dumps(term)[1:-1]
    if escaped != term:
        found |= Q(arguments_text__icontains=escaped)
    return jobs.alias(arguments_text=ArgumentsText()).filter(found)


def raised(jobs: QuerySet[Job], exception_class_path: str) -> QuerySet[Job]:
    """The ``jobs`` with an attempt that raised this exception class (exactly this path)."""
    if connections[jobs.db].features.supports_json_field_contains:
        # JSON containment, no text cast (PostgreSQL: GIN index solidq_job_errors).
        return jobs.filter(errors__contains=[{"exception_class_path": exception_class_path}])
    return jobs.filter(RaisedClass(exception_class_path))
