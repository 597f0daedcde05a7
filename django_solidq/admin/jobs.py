"""The job admin: jobs by status, a job's page, and the Retry / Discard / Run now actions.

What it is made of lives beside it: ``filters`` (the list filters), ``changelist`` (the
capped counting), ``display`` (columns and a job's fields), ``job_actions`` (the actions),
and ``urls`` (Mission Control's pages, mounted under this admin's URLs)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import ActionLocation
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern

from django_solidq.models import Job, reporting

from . import job_actions
from .changelist import JobChangeList, counted_rows
from .display import JobDisplay
from .filters import (
    ORDERINGS,
    ExceptionFilter,
    QueueFilter,
    StatusFilter,
    TaskFilter,
    WorkerFilter,
)
from .helpers import (
    COUNT_CAP,
    STATE_LABELS,
    CappedPaginator,
    ReadOnlyAdmin,
    job_state,
    may,
    navigation,
)
from .urls import mission_control_urls


@admin.register(Job)
class JobAdmin(JobDisplay, ReadOnlyAdmin):
    list_display = ["job", "task", "queue", "priority", "attempts", "state", "when", "last_error"]
    list_display_links = ["job"]
    list_filter = [
        StatusFilter,
        TaskFilter,
        QueueFilter,
        ExceptionFilter,
        WorkerFilter,
        ("enqueued_at", admin.DateFieldListFilter),
        ("finished_at", admin.DateFieldListFilter),
    ]
    search_fields = ["id"]
    search_help_text = "A job id, or text in the job's arguments."
    list_per_page = 50
    list_max_show_all = 0
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = CappedPaginator
    count_cap = COUNT_CAP  # what the list says past the paginator's cap
    actions = [job_actions.retry_jobs, job_actions.discard_jobs, job_actions.run_jobs_now]
    # a job's page: the job's columns, and what ``JobDisplay`` computes (the ``*_display``s)
    fieldsets = [
        (
            None,
            {
                "fields": [
                    *("job_id", "state_display", "task_path", "queue_name", "priority"),
                    *("backend", "concurrency_key", "attempts_display", "worker_display"),
                ]
            },
        ),
        ("Arguments", {"fields": ["args_display", "kwargs_display"]}),
        ("Return value", {"fields": ["return_value_display"]}),
        ("Timeline", {"fields": ["timeline_display"]}),
        ("Attempts and errors", {"fields": ["errors_display"]}),
    ]
    readonly_fields = [
        *("job_id", "state_display", "attempts_display", "worker_display", "args_display"),
        *("kwargs_display", "return_value_display", "timeline_display", "errors_display"),
    ]

    # the actions' permissions (``@admin.action(permissions=[...])`` asks for these)
    def has_retry_permission(self, request: HttpRequest) -> bool:
        return may(request, "retry")

    def has_discard_permission(self, request: HttpRequest) -> bool:
        return may(request, "discard")

    def has_run_now_permission(self, request: HttpRequest) -> bool:
        return may(request, "run_now")

    # the list
    def get_queryset(self, request: HttpRequest) -> QuerySet[Job]:
        return super().get_queryset(request).with_executions()  # type: ignore[attr-defined]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return JobChangeList

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: QuerySet[Job],
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> CappedPaginator:
        paginator = CappedPaginator(queryset, per_page, orphans, allow_empty_first_page)
        paginator.counted = counted_rows(request)
        return paginator

    def get_ordering(self, request: HttpRequest) -> Any:
        return ORDERINGS.get(request.GET.get("status", ""), ("-enqueued_at",))

    def get_list_display(self, request: HttpRequest) -> Any:
        columns = list(self.list_display)
        status = request.GET.get("status")
        if status in STATE_LABELS:
            columns.remove("state")  # the filter says it
        if status == "claimed":
            columns.insert(columns.index("when") + 1, "worker")
        if status == "blocked":
            columns.insert(columns.index("when") + 1, "concurrency")
        return columns

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Job], search_term: str
    ) -> tuple[QuerySet[Job], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(id=uuid.UUID(term)), False
        except ValueError:
            return reporting.search_arguments(queryset, term), False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        status = request.GET.get("status", "")
        label = STATE_LABELS.get(status)
        extra = {
            "solidq_nav": navigation(request, status if label else "all"),
            "title": f"{label} jobs" if label else "Jobs",
        }
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    # a job's page: its Action menu offers what applies to it (a failed job: Retry, Discard)
    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        job = self.get_object(request, unquote(object_id)) if object_id else None
        request.solidq_job_state = job_state(job) if job is not None else None  # type: ignore[attr-defined]
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_actions(
        self, request: HttpRequest, action_location: ActionLocation = ActionLocation.CHANGE_LIST
    ) -> dict[str, Any]:
        offered = super().get_actions(request, action_location=action_location)
        state = getattr(request, "solidq_job_state", None)
        if action_location != ActionLocation.CHANGE_FORM or state is None:
            return offered
        return job_actions.applicable(offered, state)

    # Mission Control's pages: under this admin's URLs, declared in ``urls``
    def get_urls(self) -> list[URLPattern]:
        return [*mission_control_urls(self), *super().get_urls()]
