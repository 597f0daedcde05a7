"""The job list's filters: status, task, queue, exception class, the worker running it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from django_solidq.models import Job, Process, reporting

from .helpers import EXECUTIONS, STATES, short_class

FILTER_CHOICES = 100  # values offered by the task / queue / exception / worker filters

# Each status's list in its natural order: pending jobs as workers claim them (priority,
# then first in), scheduled ones by due time, failed ones newest failure first, ...
ORDERINGS: dict[str, tuple[str, ...]] = {
    "ready": ("-readyexecution__priority", "readyexecution__id"),
    "scheduled": ("scheduledexecution__scheduled_at", "scheduledexecution__id"),
    "claimed": ("claimedexecution__created_at",),
    "blocked": ("-blockedexecution__priority", "blockedexecution__id"),
    "failed": ("-failedexecution__created_at",),
    "finished": ("-finished_at",),
    "discarded": ("-finished_at",),
}


def filter_state(queryset: QuerySet[Job], state: str | None) -> QuerySet[Job]:
    if state in EXECUTIONS:
        # A job in an execution table has not ended: ``finished_at IS NULL`` says so to the
        # planner, which then reads the few unfinished jobs through the (…, finished_at)
        # indexes instead of scanning or hashing every finished one.
        return queryset.filter(**{f"{EXECUTIONS[state]}__isnull": False}, finished_at__isnull=True)
    if state == "finished":
        return queryset.filter(finished_at__isnull=False, discarded_at__isnull=True)
    if state == "discarded":
        return queryset.filter(finished_at__isnull=False, discarded_at__isnull=False)
    return queryset


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return STATES

    def queryset(self, request: HttpRequest, queryset: QuerySet[Job]) -> QuerySet[Job]:
        return filter_state(queryset, self.value())


class TaskFilter(admin.SimpleListFilter):
    title = "task"
    parameter_name = "task"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        tasks = reporting.distinct_values(Job.objects.all(), "task_path", FILTER_CHOICES)
        return [(t, t) for t in tasks]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Job]) -> QuerySet[Job]:
        return queryset.filter(task_path=self.value()) if self.value() else queryset


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        queues = reporting.distinct_values(Job.objects.all(), "queue_name", FILTER_CHOICES)
        return [(q, q) for q in queues]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Job]) -> QuerySet[Job]:
        return queryset.filter(queue_name=self.value()) if self.value() else queryset


class ExceptionFilter(admin.SimpleListFilter):
    """On the Failed list: jobs whose failing error is of this class (indexed on the failed
    executions). On any other list: jobs with an attempt that raised it (on PostgreSQL a GIN
    index on the errors). Offered: the classes of the most recent failures."""

    title = "exception class"
    parameter_name = "exception"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        classes = reporting.recent_exception_classes(FILTER_CHOICES)
        return [(c, short_class(c)) for c in classes]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Job]) -> QuerySet[Job]:
        if not self.value():
            return queryset
        if request.GET.get("status") == "failed":
            return queryset.filter(failedexecution__exception_class=self.value())
        return reporting.raised(queryset, self.value() or "")


class WorkerFilter(admin.SimpleListFilter):
    title = "running on"
    parameter_name = "process"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        workers = Process.objects.filter(kind="worker").order_by("name")[:FILTER_CHOICES]
        return [(str(p.id), p.name) for p in workers]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Job]) -> QuerySet[Job]:
        if not self.value():
            return queryset
        try:
            process_id = int(self.value())  # type: ignore[arg-type]
        except ValueError:
            return queryset.none()
        return queryset.filter(claimedexecution__process_id=process_id)
