"""The dashboard's latency per queue: how long each queue's oldest pending job has waited
(now), and how long its jobs waited to start over the window (median and 95th percentile of
a sample), drawn as an inline SVG bar chart."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from django_solidq.models import Job, ReadyExecution

from .helpers import duration

MAX_QUEUES = 20
WIDTH, LABEL_W, VALUE_W = 900, 170, 90
BAR_H, BAR_GAP, GROUP_GAP = 8, 2, 12
SERIES = (("now", "oldest pending now"), ("p50", "median wait"), ("p95", "95th percentile wait"))


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of already sorted values; None for none."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * p // 100))  # ceil(n * p / 100)
    return sorted_values[int(rank) - 1]


def queue_latencies(since: datetime, now: datetime) -> list[dict[str, Any]]:
    """One row per queue with pending jobs or jobs finished in the window (up to MAX_QUEUES):
    seconds the oldest pending job has waited, and the window's median and p95 wait."""
    waits = Job.objects.waits_by_queue(since)
    pending = ReadyExecution.objects.distinct_values("queue_name", MAX_QUEUES)
    rows = []
    for name in sorted({*waits, *pending})[:MAX_QUEUES]:
        oldest = ReadyExecution.objects.oldest_created_at(name)
        sample = sorted(waits.get(name, []))
        rows.append(
            {
                "name": name,
                "now": max(0.0, (now - oldest).total_seconds()) if oldest else None,
                "p50": percentile(sample, 50),
                "p95": percentile(sample, 95),
                "jobs": len(sample),
            }
        )
    return rows


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
            text = "none" if value is None else duration(timedelta(seconds=value))
            title = escape(f"{row['name']}: {label} {text} ({row['jobs']} jobs sampled)")
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
