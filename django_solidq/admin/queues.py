"""The Queues page: size, latency, running and failed counts, pause / resume, clear."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from django_solidq.models import Job, Pause, ReadyExecution, reporting

from .actions import run_and_report
from .helpers import COUNT_CAP, capped_count, duration, may, mission_context, plural, show_count

# Queues the page lists at most.
MAX_QUEUES = 200
# Clearing a queue discards at most this many pending jobs a click, CLEAR_BATCH at a time.
CLEAR_LIMIT = 10_000
CLEAR_BATCH = 500


def _check_view(model_admin: admin.ModelAdmin[Any], request: HttpRequest) -> None:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied


def _queue_name(request: HttpRequest) -> str:
    name = request.POST.get("queue", request.GET.get("queue", "")).strip()
    if not name or len(name) > 128:
        raise BadRequest("A queue name (1 to 128 characters) is required.")
    return name


def queues_view(model_admin: admin.ModelAdmin[Any], request: HttpRequest) -> HttpResponse:
    _check_view(model_admin, request)
    jobs = reverse("admin:django_solidq_job_changelist")
    rows = []
    for stats in all_queues():
        query = urlencode({"queue": stats["name"]})
        rows.append(
            {
                **stats,
                "jobs_url": f"{jobs}?{query}",
                "pending_display": show_count(stats["pending"]),
                "scheduled_display": show_count(stats["scheduled"]),
                "failed_display": show_count(stats["failed"]),
                "latency_display": duration(stats["latency"]) if stats["latency"] else "",
                "pending_url": f"{jobs}?status=ready&{query}",
                "scheduled_url": f"{jobs}?status=scheduled&{query}",
                "running_url": f"{jobs}?status=claimed&{query}",
                "failed_url": f"{jobs}?status=failed&{query}",
                "clear_url": reverse("admin:django_solidq_job_queue_clear") + f"?{query}",
            }
        )
    context = {
        **mission_context(model_admin, request, "Queues", "queues"),
        "queues": rows,
        "can_pause": may(request, "pause"),
        "can_discard": may(request, "discard"),
    }
    return TemplateResponse(request, "django_solidq/queues.html", context)


def all_queues() -> list[dict[str, Any]]:
    """Every queue that holds a job in any state (the dashboard's too), is paused or is named
    by a worker: ``queue_stats``' queues, and those whose jobs have all ended (nothing to
    count in the execution tables: zeros)."""
    stats = [row.as_dict() for row in reporting.queue_stats(cap=COUNT_CAP, limit=MAX_QUEUES)]
    known = {row["name"] for row in stats}
    ended = [
        reporting.QueueStats(name, 0, 0, 0, 0, None, None, paused=False).as_dict()
        for name in reporting.distinct_values(Job.objects.all(), "queue_name", MAX_QUEUES)
        if name not in known
    ]
    return sorted([*stats, *ended], key=lambda row: row["name"])


def pause_view(model_admin: admin.ModelAdmin[Any], request: HttpRequest) -> HttpResponse:
    return _set_paused(model_admin, request, paused=True)


def resume_view(model_admin: admin.ModelAdmin[Any], request: HttpRequest) -> HttpResponse:
    return _set_paused(model_admin, request, paused=False)


def _set_paused(
    model_admin: admin.ModelAdmin[Any], request: HttpRequest, paused: bool
) -> HttpResponse:
    """POST only, with the pause permission: pause or resume the queue named in the form."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not may(request, "pause"):
        raise PermissionDenied
    name = _queue_name(request)
    if paused:
        Pause.objects.pause(name)
        message = f"Paused queue {name!r}: workers take no new jobs from it."
    else:
        Pause.objects.resume(name)
        message = f"Resumed queue {name!r}: workers take jobs from it again."
    model_admin.message_user(request, message, messages.SUCCESS)
    return HttpResponseRedirect(reverse("admin:django_solidq_job_queues"))


def clear_view(model_admin: admin.ModelAdmin[Any], request: HttpRequest) -> HttpResponse:
    """GET: what clearing would do; POST: discard the queue's pending jobs (capped)."""
    if not may(request, "discard"):
        raise PermissionDenied
    name = _queue_name(request)
    pending = ReadyExecution.objects.filter(queue_name=name)
    if request.method != "POST":
        count = capped_count(pending, CLEAR_LIMIT)
        context: dict[str, Any] = {
            **mission_context(model_admin, request, f"Clear queue {name}?", "queues"),
            "queue": name,
            "count_display": show_count(count, CLEAR_LIMIT),
            "count": count,
            "over_limit": count > CLEAR_LIMIT,
            "limit": CLEAR_LIMIT,
            "paused": Pause.objects.is_paused(name),
        }
        return TemplateResponse(request, "django_solidq/confirm_clear.html", context)
    run_and_report(
        model_admin,
        request,
        list(pending.order_by("id").values_list("id", flat=True)[:CLEAR_LIMIT]),
        lambda batch: ReadyExecution.objects.filter(id__in=batch).discard(),
        lambda n: f"Discarded {plural(n, 'pending job')} of queue {name!r}.",
        limit=CLEAR_LIMIT,
        more_left=pending.exists,
        again="Clear it again to continue.",
        batch_size=CLEAR_BATCH,
    )
    return HttpResponseRedirect(reverse("admin:django_solidq_job_queues"))
