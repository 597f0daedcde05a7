"""The dashboard: jobs per status, throughput and latency per queue drawn as inline SVGs,
slowest and most-failing tasks. Every count is capped; the throughput chart reads one indexed
time range per series. Queries: ``models.reporting``; charts: ``charts`` and its templates."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from django_solidq.conf import get_config
from django_solidq.models import (
    BlockedExecution,
    ClaimedExecution,
    FailedExecution,
    Job,
    ReadyExecution,
    ScheduledExecution,
    reporting,
)

from .charts import latency_chart, throughput_chart
from .helpers import STATES, capped_count, duration, mission_context, show_count
from .latency import queue_latencies, startup_summary

# The windows the page offers: (key in the URL, minutes).
WINDOWS = (("15m", 15), ("1h", 60), ("3h", 180), ("6h", 360), ("12h", 720), ("24h", 1440))
MINUTES = dict(WINDOWS)
DEFAULT_WINDOW = "1h"  # when no job finished or failed in the last 24 h
MAX_BARS = 180


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


def dashboard_view(model_admin: admin.ModelAdmin[Any], request: HttpRequest) -> HttpResponse:
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
        "workers_alive": reporting.alive_workers(get_config().process_alive_threshold),
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
            for row in reporting.durations_by_task(since)[:10]
        ],
        "failing": [
            {
                "task_path": task,
                "count": n,
                "url": f"{jobs_url}?{urlencode({'status': 'failed', 'task': task})}",
            }
            for task, n in reporting.top_failing_tasks(since)
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
    return window_for(reporting.first_activity(now - timedelta(minutes=MINUTES["24h"])), now)


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
    if step < 60:
        finished = _moments(reporting.finished_since(since).values_list("finished_at", flat=True))
        failed = _moments(reporting.failed_since(since).values_list("created_at", flat=True))
        if finished is not None and failed is not None:
            return finished, failed, step
    return reporting.finished_per_minute(since), reporting.failed_per_minute(since), 60


def _moments(values: Any) -> dict[datetime, int] | None:
    moments = list(values.order_by()[: RAW_CAP + 1])
    return None if len(moments) > RAW_CAP else dict(Counter(moments))


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
