"""The dashboard's latency per queue: how long each queue's oldest pending job has waited
(now), and how long its jobs waited to start over the window (median and 95th percentile of
a sample), drawn as an inline SVG bar chart.

A job due before any worker was running (enqueued, say, before ``runjobs`` started) waited
for start-up, not in a queue: such waits are counted apart and left out of the percentiles,
or a fresh site's "median wait" would be its boot time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Min
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from django_solidq.models import Job, Process, ReadyExecution

from .helpers import duration, plural

MAX_QUEUES = 20
SAMPLE = 2000  # jobs finished in the window, the latest, whose waits are read
WIDTH, LABEL_W, VALUE_W = 900, 170, 90
BAR_H, BAR_GAP, GROUP_GAP = 8, 2, 12
SERIES = (("now", "oldest pending now"), ("p50", "median wait"), ("p95", "95th percentile wait"))


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of already sorted values; None for none."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * p // 100))  # ceil(n * p / 100)
    return sorted_values[int(rank) - 1]


def workers_since() -> datetime | None:
    """When the longest-registered worker started: before it, no worker ran jobs."""
    return Process.objects.filter(kind="worker").aggregate(first=Min("created_at"))["first"]


def split_waits(
    since: datetime, booted: datetime | None
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per queue, the seconds each of the latest jobs finished since ``since`` waited from
    when it was due to its first attempt: (waits in a queue, waits for start-up). A job due
    before ``booted`` and started after it waited for the workers to start."""
    rows = (
        Job.objects.filter(finished_at__gte=since, started_at__isnull=False)
        .order_by("-finished_at")
        .values_list("queue_name", "enqueued_at", "scheduled_at", "started_at")[:SAMPLE]
    )
    queued: dict[str, list[float]] = {}
    startup: dict[str, list[float]] = {}
    for queue_name, enqueued, scheduled, started in rows:
        if started is None:  # excluded above; for the type checker
            continue
        due = max(enqueued, scheduled) if scheduled else enqueued
        waited = max(0.0, (started - due).total_seconds())
        booting = booted is not None and due < booted <= started
        (startup if booting else queued).setdefault(queue_name, []).append(waited)
    return queued, startup


def queue_latencies(since: datetime, now: datetime) -> list[dict[str, Any]]:
    """One row per queue with pending jobs or jobs finished in the window (up to MAX_QUEUES):
    seconds the oldest pending job has waited, the window's median and p95 wait in the
    queue, and the jobs that waited for start-up instead (how many, the longest)."""
    waits, startup = split_waits(since, workers_since())
    pending = ReadyExecution.objects.distinct_values("queue_name", MAX_QUEUES)
    rows = []
    for name in sorted({*waits, *startup, *pending})[:MAX_QUEUES]:
        oldest = ReadyExecution.objects.oldest_created_at(name)
        sample = sorted(waits.get(name, []))
        booting = startup.get(name, [])
        rows.append(
            {
                "name": name,
                "now": max(0.0, (now - oldest).total_seconds()) if oldest else None,
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


def latency_chart(rows: list[dict[str, Any]]) -> SafeString:
    """Horizontal bars per queue, one per series, on one linear scale, each labelled."""
    top = max([row[key] or 0.0 for row in rows for key, _ in SERIES] + [0.001])
    plot_w = WIDTH - LABEL_W - VALUE_W
    group_h = len(SERIES) * (BAR_H + BAR_GAP) + GROUP_GAP
    height = max(group_h * len(rows), group_h)
    parts: list[str] = []
    for index, row in enumerate(rows):
        y0 = index * group_h
        parts.append(
            f'<text class="label queue" x="{LABEL_W - 8}" y="{y0 + 2 * BAR_H + 2}" '
            f'text-anchor="end">{escape(row["name"])}</text>'
        )
        for position, (key, label) in enumerate(SERIES):
            value = row[key]
            y = y0 + position * (BAR_H + BAR_GAP)
            width = plot_w * (value or 0.0) / top
            if value is not None:
                text = duration(timedelta(seconds=value))
            elif key == "p50" and row["startup"]:
                text = "only start-up waits (below)"
            elif key == "p95" and row["startup"]:
                text = ""
            else:
                text = "none"
            title = f"{row['name']}: {label} {text} ({plural(row['jobs'], 'job')} sampled"
            if row["startup"]:
                title += f"; {plural(row['startup'], 'job')} waited for start-up, not counted"
            title = escape(title + ")")
            parts.append(
                f"<g><title>{title}</title>"
                f'<rect class="{key}" x="{LABEL_W}" y="{y}" width="{width:.2f}" '
                f'height="{BAR_H}"/>'
                f'<text class="label" x="{LABEL_W + width + 4:.2f}" y="{y + BAR_H}">'
                f"{escape(text)}</text></g>"
            )
    # Every value above is a number or escaped: the markup is safe as a whole.
    return mark_safe(
        f'<svg class="solidq-chart solidq-latency" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="Latency per queue">{"".join(parts)}</svg>'
    )
