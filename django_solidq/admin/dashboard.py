"""The dashboard: jobs per status, throughput and latency per queue drawn as inline SVGs,
slowest and most-failing tasks. Every count is capped; the throughput chart reads one indexed
time range per series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from django_solidq.models import (
    BlockedExecution,
    ClaimedExecution,
    FailedExecution,
    Job,
    ReadyExecution,
    ScheduledExecution,
)

from .helpers import STATES, capped_count, duration, mission_context, plural, show_count
from .latency import latency_chart, queue_latencies

if TYPE_CHECKING:
    from .jobs import JobAdmin

WINDOWS = (1, 3, 6, 12, 24)  # hours the page offers
DEFAULT_WINDOW = 3
MAX_BARS = 180
CHART_WIDTH, CHART_HEIGHT = 900, 220
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 48, 28, 12


def dashboard_view(model_admin: JobAdmin, request: HttpRequest) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    try:
        hours = int(request.GET.get("hours", DEFAULT_WINDOW))
    except ValueError:
        hours = DEFAULT_WINDOW
    hours = hours if hours in WINDOWS else DEFAULT_WINDOW
    now = timezone.now()
    since = now - timedelta(hours=hours)
    finished = Job.objects.finished_per_minute(since)
    failed = FailedExecution.objects.per_minute(since)
    jobs_url = reverse("admin:django_solidq_job_changelist")
    latencies = queue_latencies(since, now)
    context = {
        **mission_context(model_admin, request, "Dashboard", "dashboard"),
        "hours": hours,
        "windows": WINDOWS,
        "counts": status_counts(since, jobs_url),
        "chart": throughput_chart(finished, failed, since, now),
        "latencies": latencies,
        "latency_chart": latency_chart(latencies) if latencies else None,
        "finished_total": sum(finished.values()),
        "failed_total": sum(failed.values()),
        "per_minute": sum(finished.values()) / (hours * 60),
        "slowest": [
            {
                **row,
                "mean_display": duration(timedelta(seconds=row["mean"])),
                "max_display": duration(timedelta(seconds=row["max"])),
                "url": f"{jobs_url}?{urlencode({'status': 'finished', 'task': row['task_path']})}",
            }
            for row in Job.objects.durations_by_task(since)[:10]
        ],
        "failing": [
            {
                "task_path": task,
                "count": n,
                "url": f"{jobs_url}?{urlencode({'status': 'failed', 'task': task})}",
            }
            for task, n in FailedExecution.objects.top_tasks(since)
        ],
    }
    return TemplateResponse(request, "django_solidq/dashboard.html", context)


def status_counts(since: datetime, jobs_url: str) -> list[dict[str, Any]]:
    """Capped counts: the execution tables whole, ended jobs within the window."""
    querysets: dict[str, Any] = {
        "ready": ReadyExecution.objects.all(),
        "scheduled": ScheduledExecution.objects.all(),
        "claimed": ClaimedExecution.objects.all(),
        "blocked": BlockedExecution.objects.all(),
        "failed": FailedExecution.objects.all(),
        "finished": Job.objects.filter(finished_at__gte=since, discarded_at__isnull=True),
        "discarded": Job.objects.filter(finished_at__gte=since, discarded_at__isnull=False),
    }
    return [
        {
            "state": state,
            "label": label,
            "count": show_count(capped_count(querysets[state])),
            "url": f"{jobs_url}?status={state}",
            "windowed": state in ("finished", "discarded"),
        }
        for state, label in STATES
    ]


def throughput_chart(
    finished: dict[datetime, int], failed: dict[datetime, int], since: datetime, now: datetime
) -> SafeString:
    """Stacked bars, finished (below) and failed (above), per bucket of whole minutes."""
    minutes = max(1, int((now - since).total_seconds() // 60))
    step = max(1, -(-minutes // MAX_BARS))  # minutes per bar
    start = since.astimezone(UTC).replace(second=0, microsecond=0)
    bars = -(-minutes // step) + 1
    ok = [0] * bars
    bad = [0] * bars
    for series, counts in ((ok, finished), (bad, failed)):
        for minute, n in counts.items():
            index = int((_utc(minute) - start).total_seconds() // 60) // step
            if 0 <= index < bars:
                series[index] += n
    top = max([a + b for a, b in zip(ok, bad, strict=True)] + [1])
    plot_w = CHART_WIDTH - MARGIN_LEFT - 8
    plot_h = CHART_HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    bar_w = plot_w / bars
    width = f"{max(bar_w - 1, 0.5):.2f}"
    base = MARGIN_TOP + plot_h
    parts: list[str] = []
    for fraction in (0, 0.5, 1):  # grid lines and y labels
        y = f"{MARGIN_TOP + plot_h * (1 - fraction):.1f}"
        parts.append(
            f'<line class="grid" x1="{MARGIN_LEFT}" x2="{CHART_WIDTH - 8}" y1="{y}" y2="{y}"/>'
            f'<text class="label" x="{MARGIN_LEFT - 6}" y="{float(y) + 4:.1f}" '
            f'text-anchor="end">{_number(top * fraction)}</text>'
        )
    for i in range(bars):
        moment = timezone.localtime(start + timedelta(minutes=i * step))
        x = MARGIN_LEFT + i * bar_w
        h_ok = plot_h * ok[i] / top
        h_bad = plot_h * bad[i] / top
        title = escape(f"{moment:%H:%M}: {ok[i]} finished, {bad[i]} failed")
        parts.append(
            f"<g><title>{title}</title>"
            f'<rect class="ok" x="{x:.2f}" y="{base - h_ok:.2f}" width="{width}" '
            f'height="{h_ok:.2f}"/>'
            f'<rect class="bad" x="{x:.2f}" y="{base - h_ok - h_bad:.2f}" width="{width}" '
            f'height="{h_bad:.2f}"/></g>'
        )
        if i % max(1, bars // 6) == 0:
            parts.append(
                f'<text class="label" x="{x:.1f}" y="{CHART_HEIGHT - 8}">{moment:%H:%M}</text>'
            )
    # Every value above is a number or escaped: the markup is safe as a whole.
    return mark_safe(
        f'<svg class="solidq-chart" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img" '
        f'aria-label="Jobs finished and failed per {plural(step, "minute")}">'
        f"{''.join(parts)}</svg>"
    )


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _number(value: float) -> str:
    return f"{value:.1f}" if value != int(value) else f"{int(value)}"
