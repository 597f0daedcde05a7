"""The dashboard's charts, measured here and drawn by templates
(``django_solidq/charts/*.svg``): numbers and plain text out, no markup built in Python."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from .helpers import duration, plural

# The throughput chart: stacked bars, finished below and failed above.
WIDTH, HEIGHT = 900, 220
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 48, 28, 12
# The latency chart: per queue a group of bars, one per series.
LABEL_W, VALUE_W = 170, 90
BAR_H, BAR_GAP, GROUP_GAP = 8, 2, 12
SERIES = (("now", "oldest pending now"), ("p50", "median wait"), ("p95", "95th percentile wait"))


def throughput_chart(
    finished: dict[datetime, int],
    failed: dict[datetime, int],
    since: datetime,
    now: datetime,
    step: int = 60,
) -> dict[str, Any]:
    """Stacked bars, finished (below) and failed (above), one per ``step`` seconds."""
    start = since.astimezone(UTC).replace(microsecond=0)
    if step >= 60:
        start = start.replace(second=0)
    count = int((now - start).total_seconds() // step) + 1
    ok = [0] * count
    bad = [0] * count
    for series, counts in ((ok, finished), (bad, failed)):
        for moment, n in counts.items():
            index = int((_utc(moment) - start).total_seconds() // step)
            if 0 <= index < count:
                series[index] += n
    top = max([a + b for a, b in zip(ok, bad, strict=True)] + [1])
    plot_w = WIDTH - MARGIN_LEFT - 8
    plot_h = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    bar_w = plot_w / count
    base = MARGIN_TOP + plot_h
    clock = "%H:%M" if step >= 60 else "%H:%M:%S"
    grid = []
    for fraction in (0, 0.5, 1):  # grid lines and y labels
        y = MARGIN_TOP + plot_h * (1 - fraction)
        grid.append(
            {
                "x1": MARGIN_LEFT,
                "x2": WIDTH - 8,
                "y": f"{y:.1f}",
                "label_x": MARGIN_LEFT - 6,
                "label_y": f"{y + 4:.1f}",
                "label": _number(top * fraction),
            }
        )
    bars = []
    for i in range(count):
        moment = timezone.localtime(start + timedelta(seconds=i * step))
        x = MARGIN_LEFT + i * bar_w
        h_ok = plot_h * ok[i] / top
        h_bad = plot_h * bad[i] / top
        labelled = i % max(1, count // 6) == 0 and x < WIDTH - 60  # (none cut off at the end)
        bars.append(
            {
                "title": f"{moment.strftime(clock)}: {ok[i]} finished, {bad[i]} failed",
                "x": f"{x:.2f}",
                "ok_y": f"{base - h_ok:.2f}",
                "ok_h": f"{h_ok:.2f}",
                "bad_y": f"{base - h_ok - h_bad:.2f}",
                "bad_h": f"{h_bad:.2f}",
                "label": moment.strftime(clock) if labelled else "",
                "label_x": f"{x:.1f}",
            }
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "per": _per(step),
        "grid": grid,
        "bars": bars,
        "bar_width": f"{max(bar_w - 1, 0.5):.2f}",
        "label_y": HEIGHT - 8,
    }


def latency_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Horizontal bars per queue, one per series, on one linear scale, each labelled."""
    top = max([row[key] or 0.0 for row in rows for key, _ in SERIES] + [0.001])
    plot_w = WIDTH - LABEL_W - VALUE_W
    group_h = len(SERIES) * (BAR_H + BAR_GAP) + GROUP_GAP
    groups = []
    for index, row in enumerate(rows):
        y0 = index * group_h
        bars = []
        for position, (key, label) in enumerate(SERIES):
            y = y0 + position * (BAR_H + BAR_GAP)
            width = plot_w * (row[key] or 0.0) / top
            text = _bar_text(row, key)
            title = f"{row['name']}: {label} {text} ({plural(row['jobs'], 'job')} sampled"
            if row["startup"]:
                title += f"; {plural(row['startup'], 'job')} waited for start-up, not counted"
            bars.append(
                {
                    "key": key,
                    "title": title + ")",
                    "y": y,
                    "width": f"{width:.2f}",
                    "text": text,
                    "text_x": f"{LABEL_W + width + 4:.2f}",
                    "text_y": y + BAR_H,
                }
            )
        groups.append({"name": row["name"], "name_y": y0 + 2 * BAR_H + 2, "bars": bars})
    return {
        "width": WIDTH,
        "height": max(group_h * len(rows), group_h),
        "name_x": LABEL_W - 8,
        "bar_x": LABEL_W,
        "bar_height": BAR_H,
        "groups": groups,
    }


def _bar_text(row: dict[str, Any], key: str) -> str:
    value = row[key]
    if value is not None:
        return duration(timedelta(seconds=value))
    if key == "p50" and row["startup"]:
        return "only start-up waits (below)"
    if key == "p95" and row["startup"]:
        return ""
    return "none"


def _per(step: int) -> str:
    if step == 60:
        return "minute"
    return plural(step // 60, "minute") if step % 60 == 0 else plural(step, "second")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _number(value: float) -> str:
    return f"{value:.1f}" if value != int(value) else f"{int(value)}"
