"""The dashboard: jobs per status, throughput and latency per queue drawn as inline SVGs,
slowest and most-failing tasks. Every count is capped; the throughput chart reads one indexed
time range per series."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
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

from django_solidq.conf import get_config
from django_solidq.models import (
    BlockedExecution,
    ClaimedExecution,
    FailedExecution,
    Job,
    Process,
    ReadyExecution,
    ScheduledExecution,
)

from .helpers import STATES, capped_count, duration, mission_context, plural, show_count
from .latency import latency_chart, queue_latencies, startup_summary

if TYPE_CHECKING:
    from .jobs import JobAdmin

# The windows the page offers: (key in the URL, minutes).
WINDOWS = (("15m", 15), ("1h", 60), ("3h", 180), ("6h", 360), ("12h", 720), ("24h", 1440))
MINUTES = dict(WINDOWS)
DEFAULT_WINDOW = "1h"  # when no job finished or failed in the last 24 h
MAX_BARS = 180
CHART_WIDTH, CHART_HEIGHT = 900, 220
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 48, 28, 12


@dataclass(frozen=True)
class Window:
    """The time the page covers: one of WINDOWS, or on a site whose first job finished less
    than 15 minutes ago the time since then (key "")."""

    key: str
    seconds: int
    picked: bool  # from the data, not asked for

    @property
    def label(self) -> str:
        if self.seconds < 60:
            return f"{self.seconds} s"
        minutes = self.seconds // 60
        return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h"

    @property
    def step(self) -> int:
        """Seconds a bar of the throughput chart stands for."""
        if self.seconds < MINUTES["15m"] * 60:
            return next(s for s in SECOND_STEPS if self.seconds / s <= MAX_BARS_SECONDS)
        return 60 * max(1, -(-self.seconds // 60 // MAX_BARS))


SECOND_STEPS = (1, 2, 5, 10, 15, 30, 60)  # bars of a young site's chart
MAX_BARS_SECONDS = 90
RAW_CAP = 5_000  # moments read one by one for a young site's chart, at most


def dashboard_view(model_admin: JobAdmin, request: HttpRequest) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    now = timezone.now()
    window = chosen_window(request, now)
    since = now - timedelta(seconds=window.seconds)
    finished, failed, step = throughput(since, window.step)
    jobs_url = reverse("admin:django_solidq_job_changelist")
    latencies = queue_latencies(since, now)
    context = {
        **mission_context(model_admin, request, "Dashboard", "dashboard"),
        "window": window.key,
        "window_label": window.label,
        "picked": window.picked,
        "windows": [(key, Window(key, minutes * 60, False).label) for key, minutes in WINDOWS],
        "workers_alive": alive_workers(),
        "counts": status_counts(since, jobs_url),
        "chart": throughput_chart(finished, failed, since, now, step),
        "latencies": latencies,
        "latency_chart": latency_chart(latencies) if latencies else None,
        "startup": startup_summary(latencies),
        "finished_total": sum(finished.values()),
        "failed_total": sum(failed.values()),
        "per_minute": sum(finished.values()) * 60 / window.seconds,
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


def chosen_window(request: HttpRequest, now: datetime) -> Window:
    """The window asked for (``?window=3h``; ``?hours=3`` as older links say), or else the
    one picked from the data."""
    asked = request.GET.get("window") or (
        f"{request.GET['hours']}h" if request.GET.get("hours") else ""
    )
    if asked in MINUTES:
        return Window(asked, MINUTES[asked] * 60, picked=False)
    return window_for(first_activity(now - timedelta(minutes=MINUTES["24h"])), now)


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


def window_for(first: datetime | None, now: datetime) -> Window:
    """The smallest window that holds everything since ``first``, so that the jobs fill the
    chart instead of one bar at its right edge: on a site whose first job is less than 15
    minutes old, the time since then (in whole minutes, a little room on the left)."""
    if first is None:
        return Window(DEFAULT_WINDOW, MINUTES[DEFAULT_WINDOW] * 60, picked=True)
    age = (now - first).total_seconds() / 0.9  # some room on the left
    if age < MINUTES["15m"] * 60:
        return Window("", 60 * max(1, -(-int(age) // 60)), picked=True)
    for key, minutes in WINDOWS:
        if age <= minutes * 60:
            return Window(key, minutes * 60, picked=True)
    return Window(WINDOWS[-1][0], WINDOWS[-1][1] * 60, picked=True)


def throughput(since: datetime, step: int) -> tuple[dict[datetime, int], dict[datetime, int], int]:
    """Jobs finished and failed since ``since``: per minute, or for bars under a minute each
    moment (read one by one, up to RAW_CAP; past it per minute after all). Also the step."""
    finished_jobs = Job.objects.filter(finished_at__gte=since, discarded_at__isnull=True)
    failures = FailedExecution.objects.filter(created_at__gte=since)
    if step < 60:
        finished = _moments(finished_jobs.values_list("finished_at", flat=True))
        failed = _moments(failures.values_list("created_at", flat=True))
        if finished is not None and failed is not None:
            return finished, failed, step
    return Job.objects.finished_per_minute(since), FailedExecution.objects.per_minute(since), 60


def _moments(values: Any) -> dict[datetime, int] | None:
    moments = list(values.order_by()[: RAW_CAP + 1])
    return None if len(moments) > RAW_CAP else dict(Counter(moments))


def alive_workers() -> int:
    """Workers heartbeating now: none means pending jobs wait for ``runjobs``, not a queue."""
    workers = Process.objects.filter(kind="worker")
    return workers.count() - workers.stale(get_config().process_alive_threshold).count()


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
    finished: dict[datetime, int],
    failed: dict[datetime, int],
    since: datetime,
    now: datetime,
    step: int = 60,
) -> SafeString:
    """Stacked bars, finished (below) and failed (above), one per ``step`` seconds."""
    start = since.astimezone(UTC).replace(microsecond=0)
    if step >= 60:
        start = start.replace(second=0)
    bars = int((now - start).total_seconds() // step) + 1
    ok = [0] * bars
    bad = [0] * bars
    for series, counts in ((ok, finished), (bad, failed)):
        for moment, n in counts.items():
            index = int((_utc(moment) - start).total_seconds() // step)
            if 0 <= index < bars:
                series[index] += n
    top = max([a + b for a, b in zip(ok, bad, strict=True)] + [1])
    plot_w = CHART_WIDTH - MARGIN_LEFT - 8
    plot_h = CHART_HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    bar_w = plot_w / bars
    width = f"{max(bar_w - 1, 0.5):.2f}"
    base = MARGIN_TOP + plot_h
    clock = "%H:%M" if step >= 60 else "%H:%M:%S"
    parts: list[str] = []
    for fraction in (0, 0.5, 1):  # grid lines and y labels
        y = f"{MARGIN_TOP + plot_h * (1 - fraction):.1f}"
        parts.append(
            f'<line class="grid" x1="{MARGIN_LEFT}" x2="{CHART_WIDTH - 8}" y1="{y}" y2="{y}"/>'
            f'<text class="label" x="{MARGIN_LEFT - 6}" y="{float(y) + 4:.1f}" '
            f'text-anchor="end">{_number(top * fraction)}</text>'
        )
    for i in range(bars):
        moment = timezone.localtime(start + timedelta(seconds=i * step))
        x = MARGIN_LEFT + i * bar_w
        h_ok = plot_h * ok[i] / top
        h_bad = plot_h * bad[i] / top
        title = escape(f"{moment.strftime(clock)}: {ok[i]} finished, {bad[i]} failed")
        parts.append(
            f"<g><title>{title}</title>"
            f'<rect class="ok" x="{x:.2f}" y="{base - h_ok:.2f}" width="{width}" '
            f'height="{h_ok:.2f}"/>'
            f'<rect class="bad" x="{x:.2f}" y="{base - h_ok - h_bad:.2f}" width="{width}" '
            f'height="{h_bad:.2f}"/></g>'
        )
        if i % max(1, bars // 6) == 0 and x < CHART_WIDTH - 60:  # (none cut off at the end)
            parts.append(
                f'<text class="label" x="{x:.1f}" y="{CHART_HEIGHT - 8}">'
                f"{moment.strftime(clock)}</text>"
            )
    # Every value above is a number or escaped: the markup is safe as a whole.
    return mark_safe(
        f'<svg class="solidq-chart" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img" '
        f'aria-label="Jobs finished and failed per {_per(step)}">{"".join(parts)}</svg>'
    )


def _per(step: int) -> str:
    if step == 60:
        return "minute"
    return plural(step // 60, "minute") if step % 60 == 0 else plural(step, "second")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _number(value: float) -> str:
    return f"{value:.1f}" if value != int(value) else f"{int(value)}"
