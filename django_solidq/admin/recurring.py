"""The Recurring tasks page: key, schedule, what runs, when it last and next runs, and a
"Run now" action (``RecurringTask.run_now()``: enqueued outside the schedule). Read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from django_solidq.models import RecurringExecution, RecurringTask

from .helpers import PERMISSIONS, ReadOnlyAdmin, ago, navigation, pretty_json, short_json

RECENT_RUNS = 10


@admin.register(RecurringTask)
class RecurringTaskAdmin(ReadOnlyAdmin):
    nav_section = "recurring"

    list_display = [
        "key",
        "schedule",
        "next_run",
        "target",
        "arguments",
        "queue",
        "priority",
        "static",
        "last_run",
    ]
    list_filter = ["static"]
    search_fields = ["key", "task_path", "command"]
    ordering = ["key"]
    show_facets = admin.ShowFacets.NEVER
    fields = [
        "key",
        "description",
        "schedule",
        "next_run",
        "task_path",
        "command",
        "args_display",
        "kwargs_display",
        "queue_name",
        "priority",
        "static",
        "created_at",
        "updated_at",
        "recent_runs",
    ]
    readonly_fields = ["next_run", "args_display", "kwargs_display", "recent_runs"]
    actions = ["run_now"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RecurringTask]:
        last = (
            RecurringExecution.objects.filter(task_key=OuterRef("key"))
            .order_by()
            .values("task_key")
            .annotate(last=Max("run_at"))
            .values("last")
        )
        return super().get_queryset(request).annotate(last_run_at=Subquery(last))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {"solidq_nav": navigation(request, "recurring"), "title": "Recurring tasks"}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def has_run_now_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERMISSIONS["run_now"])

    @admin.action(
        permissions=["run_now"],
        description="Run now",
        description_plural="Run selected recurring tasks now",
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )
    def run_now(self, request: HttpRequest, queryset: QuerySet[RecurringTask]) -> None:
        """Enqueue each selected task's job once now; its schedule is not disturbed."""
        for task in queryset[:50]:
            try:
                result = task.run_now()
            except Exception as exc:  # a task that cannot be imported says why
                self.message_user(request, f"{task.key}: not enqueued: {exc}", messages.ERROR)
                continue
            url = reverse("admin:django_solidq_job_change", args=[result.id])
            self.message_user(
                request,
                format_html('{}: enqueued <a href="{}">job {}</a>.', task.key, url, result.id),
                messages.SUCCESS,
            )

    @admin.display(description="next run")
    def next_run(self, task: RecurringTask) -> str:
        try:
            from django_solidq.schedule import parse_schedule

            moment = parse_schedule(task.schedule).next_time(timezone.now())
        except Exception as exc:  # an invalid schedule shows why, it does not break the page
            return f"invalid schedule: {exc}"
        return f"{ago(moment)} ({timezone.localtime(moment):%Y-%m-%d %H:%M})"

    @admin.display(description="queue", ordering="queue_name")
    def queue(self, task: RecurringTask) -> str:
        return task.queue_name or ""

    @admin.display(description="task or command")
    def target(self, task: RecurringTask) -> SafeString:
        if task.task_path:
            return format_html("<code>{}</code>", task.task_path)
        return format_html("<code>$ {}</code>", task.command or "")

    @admin.display(description="arguments")
    def arguments(self, task: RecurringTask) -> str:
        parts = []
        if task.args:
            parts.append(short_json(task.args, 40))
        if task.kwargs:
            parts.append(short_json(task.kwargs, 40))
        return " ".join(parts)

    @admin.display(description="last run", ordering="last_run_at")
    def last_run(self, task: RecurringTask) -> str:
        return ago(getattr(task, "last_run_at", None)) or "never"

    @admin.display(description="arguments")
    def args_display(self, task: RecurringTask) -> SafeString:
        return pretty_json(task.args)

    @admin.display(description="keyword arguments")
    def kwargs_display(self, task: RecurringTask) -> SafeString:
        return pretty_json(task.kwargs)

    @admin.display(description="recent runs")
    def recent_runs(self, task: RecurringTask) -> SafeString | str:
        runs = list(
            RecurringExecution.objects.filter(task_key=task.key).order_by("-run_at")[:RECENT_RUNS]
        )
        if not runs:
            return "None yet."
        return format_html(
            '<ul class="solidq-list">{}</ul>',
            format_html_join(
                "",
                "<li>{} · {}</li>",
                (
                    (
                        ago(run.run_at),
                        format_html(
                            '<a href="{}">job {}</a>',
                            reverse("admin:django_solidq_job_change", args=[run.job_id]),
                            str(run.job_id)[:8],
                        )
                        if run.job_id
                        else "no job",
                    )
                    for run in runs
                ),
            ),
        )
