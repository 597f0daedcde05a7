"""The dashboard's latency per queue: how long each queue's oldest pending job has waited
(now), and how long its jobs waited to start over the window (median and 95th percentile of
a sample).

A job due before any worker was running (enqueued, say, before ``runjobs`` started) waited
for start-up, not in a queue: such waits are counted apart and left out of the percentiles,
or a fresh site's "median wait" would be its boot time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django_solidq.models import reporting

from .helpers import duration

MAX_QUEUES = 20


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of already sorted values; None for none."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * p // 100))  # ceil(n * p / 100)
    return sorted_values[int(rank) - 1]


def queue_latencies(since: datetime, now: datetime) -> list[dict[str, Any]]:
    """One row per queue with pending jobs or jobs finished in the window (up to MAX_QUEUES):
    seconds the oldest pending job has waited, the window's median and p95 wait in the
    queue, and the jobs that waited for start-up instead (how many, the longest)."""
    waits = reporting.waits_by_queue(since, reporting.first_worker_started())
    oldest = reporting.oldest_ready()
    rows = []
    for name in sorted({*waits.queued, *waits.startup, *oldest})[:MAX_QUEUES]:
        sample = sorted(waits.queued.get(name, []))
        booting = waits.startup.get(name, [])
        rows.append(
            {
                "name": name,
                "now": max(0.0, (now - oldest[name]).total_seconds()) if name in oldest else None,
                "p50": percentile(sample, 50),
                "p95": percentile(sample, 95),
                "jobs": len(sample),
                "startup": len(booting),
                "startup_max": max(booting, default=None),
            }
        )
    return rows


def startup_summary(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The jobs left out of the percentiles as start-up waits, all queues together."""
    counted = [row for row in rows if row["startup"]]
    if not counted:
        return None
    longest = max(row["startup_max"] for row in counted)
    return {
        "jobs": sum(row["startup"] for row in counted),
        "queues": ", ".join(f"{row['name']} {row['startup']}" for row in counted),
        "longest": duration(timedelta(seconds=longest)),
    }
