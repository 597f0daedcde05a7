"""Small pieces the Mission Control pages share: capped counts, batching, formatting, states."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil

from .guard import guard_urls

# Lists and stats count rows up to here and say "more than" after: no COUNT(*) of a big table.
COUNT_CAP = 10_000
# One click of a bulk action handles at most this many jobs, in batches of BATCH_SIZE (each
# its own short transaction), and stops early after TIME_BUDGET seconds.
BULK_LIMIT = 2_000
BATCH_SIZE = 200
TIME_BUDGET = 10.0

# (state, label): a job's state is which execution table holds its row, or how it ended.
STATES: Sequence[tuple[str, str]] = (
    ("ready", "Pending"),
    ("scheduled", "Scheduled"),
    ("claimed", "In progress"),
    ("blocked", "Blocked"),
    ("failed", "Failed"),
    ("finished", "Finished"),
    ("discarded", "Discarded"),
)
STATE_LABELS = dict(STATES)
EXECUTIONS = {
    "ready": "readyexecution",
    "scheduled": "scheduledexecution",
    "claimed": "claimedexecution",
    "blocked": "blockedexecution",
    "failed": "failedexecution",
}

# The custom permission each action needs: Job.Meta.permissions, and Pause's for pausing.
PERMISSIONS = {
    "retry": "django_solidq.retry_job",
    "discard": "django_solidq.discard_job",
    "run_now": "django_solidq.run_job_now",
    "pause": "django_solidq.pause_queue",
}


def may(request: HttpRequest, action: str) -> bool:
    """Whether the user holds the permission of ``action`` (a key of PERMISSIONS)."""
    return request.user.has_perm(PERMISSIONS[action])


def capped_count(queryset: QuerySet[Any], cap: int | None = None) -> int:
    """How many rows, counting no further than ``cap + 1`` (one statement, LIMITed)."""
    cap = COUNT_CAP if cap is None else cap
    return queryset.order_by()[: cap + 1].count()


def show_count(n: int, cap: int | None = None) -> str:
    cap = COUNT_CAP if cap is None else cap
    return f"more than {cap:,}" if n > cap else f"{n:,}"


class CappedPaginator(Paginator):
    """Counts at most ``COUNT_CAP + 1`` rows; pages past the cap are not offered.

    ``counted``: rows known to be as many as the list's (set by the admin when a cheaper
    table holds them one for one), counted instead of the list's own query."""

    counted: QuerySet[Any] | None = None

    @cached_property
    def count(self) -> int:
        rows = self.counted if self.counted is not None else self.object_list
        return capped_count(rows)  # type: ignore[arg-type]


def plural(n: int, word: str, words: str | None = None) -> str:
    """'1 job', '3 jobs', '1,200 jobs': a count with its noun in the right number."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """'3 minutes ago' or 'in 5 minutes' (one unit), '' for None. Under a minute ahead it
    says 'in less than a minute' (never 'in 0 minutes')."""
    if moment is None:
        return ""
    now = now or timezone.now()
    if moment > now + timedelta(seconds=1):
        if moment - now < timedelta(seconds=60):
            return "in less than a minute"
        return f"in {timeuntil(moment, now, depth=1)}"
    if now - moment < timedelta(seconds=60):
        return f"{int((now - moment).total_seconds())} s ago"
    return f"{timesince(moment, now, depth=1)} ago"


def duration(delta: timedelta | None) -> str:
    if delta is None:
        return ""
    seconds = delta.total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def short_json(value: Any, length: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= length else text[: length - 1] + "…"


def pretty_json(value: Any) -> SafeString:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str, sort_keys=True)
    return format_html('<pre class="solidq-pre">{}</pre>', text)


def short_class(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def job_state(job: Any) -> str:
    """The state of a job loaded with ``with_executions()`` (no query)."""
    for state, relation in EXECUTIONS.items():
        if job.execution(relation) is not None:
            return state
    if job.discarded_at is not None:
        return "discarded"
    if job.finished_at is not None:
        return "finished"
    return "ready"  # between statements of a transition: shown as pending


def state_badge(state: str) -> SafeString:
    return format_html(
        '<span class="solidq-badge solidq-{}">{}</span>', state, STATE_LABELS.get(state, state)
    )


def run_batched(
    ids: list[Any], work: Callable[[list[Any]], int], batch_size: int = BATCH_SIZE
) -> tuple[int, bool]:
    """Call ``work`` on ``ids`` batch by batch; returns (total done, stopped early for time)."""
    done = 0
    started = time.monotonic()
    for start in range(0, len(ids), batch_size):
        if time.monotonic() - started > TIME_BUDGET:
            return done, True
        done += work(ids[start : start + batch_size])
    return done, False


def mission_context(
    model_admin: admin.ModelAdmin[Any], request: HttpRequest, title: str, active: str
) -> dict[str, Any]:
    """What every Mission Control page needs: the admin's context plus the navigation."""
    return {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        "app_label": model_admin.model._meta.app_label,
        "solidq_nav": navigation(request, active),
    }


def navigation(request: HttpRequest, active: str) -> list[dict[str, Any]]:
    """Links between the pages, those the user may see only."""
    user = request.user
    jobs = reverse("admin:django_solidq_job_changelist")
    links: list[tuple[str, str, str, str]] = [
        ("dashboard", "Dashboard", reverse("admin:django_solidq_job_dashboard"), "view_job"),
        ("queues", "Queues", reverse("admin:django_solidq_job_queues"), "view_job"),
        (
            "processes",
            "Processes",
            reverse("admin:django_solidq_process_changelist"),
            "view_process",
        ),
        (
            "recurring",
            "Recurring tasks",
            reverse("admin:django_solidq_recurringtask_changelist"),
            "view_recurringtask",
        ),
        ("all", "All jobs", jobs, "view_job"),
    ]
    links += [(state, label, f"{jobs}?status={state}", "view_job") for state, label in STATES]
    return [
        {"key": key, "label": label, "url": url, "active": key == active}
        for key, label, url, perm in links
        if user.has_perm(f"django_solidq.{perm}")
        or user.has_perm(f"django_solidq.{perm.replace('view_', 'change_')}")
    ]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Queue tables change only through named actions: no add, edit or delete by hand.

    Its pages carry Mission Control's navigation, ``nav_section`` marked as the current one.
    """

    nav_section = ""

    @property
    def urls(self) -> list[URLPattern]:
        return guard_urls(self.get_urls())  # every page: no NUL, no overlong query parameter

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra = {"solidq_nav": navigation(request, self.nav_section)}
        return super().changeform_view(
            request, object_id, form_url, {**extra, **(extra_context or {})}
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
