"""The Recurring tasks page: key, schedule, what runs, when it last and next runs, and a
"Run now" action (``RecurringTask.run_now()``: enqueued outside the schedule).

Dynamic tasks (``static=False``) can be added, edited and removed here: the form checks its
entry with ``entry_problems`` (as the settings are checked, system checks E013 to E019) and saves
through ``schedule_recurring_task`` / ``unschedule_recurring_task``, as the Python API does.
Static tasks (from settings) are read-only.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as stock_delete_selected
from django.contrib.admin.options import ActionLocation
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from django_solidq.models import Job, RecurringExecution, RecurringTask
from django_solidq.recurring import (
    schedule_recurring_task,
    static_entries,
    unschedule_recurring_task,
)

from .helpers import (
    PERMISSIONS,
    ReadOnlyAdmin,
    ago,
    job_state,
    navigation,
    pretty_json,
    short_json,
    state_badge,
)
from .recurring_form import ADD_FIELDS, RecurringTaskForm, is_static

RECENT_RUNS = 10

EDIT_FIELDS = (
    "key",
    "description",
    "schedule",
    "next_run",
    "task_path",
    "command",
    "args",
    "kwargs",
    "queue_name",
    "priority",
    "static",
    "created_at",
    "updated_at",
    "recent_runs",
)
# A static task's page: the same fields, the arguments shown pretty-printed.
VIEW_FIELDS = tuple(
    {"args": "args_display", "kwargs": "kwargs_display"}.get(f, f) for f in EDIT_FIELDS
)
SHOWN_ONLY = (
    "next_run",
    "args_display",
    "kwargs_display",
    "static",
    "created_at",
    "updated_at",
    "recent_runs",
)


class RecurringChangeList(ChangeList):
    """The recurring tasks' list: each row's last run's job loaded with its state, in one query
    for the page."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        self.result_list = list(self.result_list)
        # The subquery's value comes back as the database stores it (SQLite: 32 hex digits).
        ids = {
            t.pk: uuid.UUID(str(t.last_job_id))
            for t in self.result_list
            if getattr(t, "last_job_id", None)
        }
        jobs = Job.objects.with_executions().in_bulk(list(ids.values()))
        for task in self.result_list:
            task.last_job = jobs.get(ids.get(task.pk))


@admin.register(RecurringTask)
class RecurringTaskAdmin(ReadOnlyAdmin):
    """Read-only for static tasks; dynamic ones can be added, edited and deleted with the
    model's standard permissions (add / change / delete_recurringtask)."""

    nav_section = "recurring"
    form = RecurringTaskForm
    change_form_template = "django_solidq/recurring_change_form.html"

    list_display = [
        "key",
        "schedule_display",
        "next_run",
        "target",
        "queue",
        "priority",
        "static",
        "last_run",
    ]
    list_filter = ["static"]
    search_fields = ["key", "task_path", "command"]
    ordering = ["key"]
    show_facets = admin.ShowFacets.NEVER
    readonly_fields = SHOWN_ONLY
    actions = ["run_now", "delete_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RecurringTask]:
        last = (
            RecurringExecution.objects.filter(task_key=OuterRef("key"))
            .order_by()
            .values("task_key")
            .annotate(last=Max("run_at"))
            .values("last")
        )
        last_job = RecurringExecution.objects.filter(task_key=OuterRef("key")).order_by("-run_at")
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_run_at=Subquery(last), last_job_id=Subquery(last_job.values("job_id")[:1])
            )
        )

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return RecurringChangeList

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {"solidq_nav": navigation(request, "recurring"), "title": "Recurring tasks"}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        task = None if object_id is None else self.get_object(request, unquote(object_id))
        if object_id is None:
            note = (
                "A dynamic task, stored in the database: running schedulers pick it up within "
                "a second or two, without a restart. It is checked as an entry of "
                "SOLIDQ['RECURRING'] is."
            )
        elif task is None:  # the stock view says it does not exist
            note = ""
        elif is_static(task):
            note = (
                "A static task, defined in settings (SOLIDQ['RECURRING'] or a built-in one): "
                "read-only here. Change it in settings and restart runjobs."
            )
        else:
            note = "A dynamic task: saved changes reach running schedulers within a second or two."
        return super().changeform_view(
            request, object_id, form_url, {"solidq_note": note, **(extra_context or {})}
        )

    # Permissions: the model's standard ones, and never for a static task.
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin.ModelAdmin.has_add_permission(self, request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and is_static(obj):
            return False
        return admin.ModelAdmin.has_change_permission(self, request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and is_static(obj):
            return False
        return admin.ModelAdmin.has_delete_permission(self, request, obj)

    def has_run_now_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERMISSIONS["run_now"])

    # The form: entry fields to add or edit a dynamic task, everything read-only otherwise.
    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ADD_FIELDS
        return EDIT_FIELDS if self.has_change_permission(request, obj) else VIEW_FIELDS

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return SHOWN_ONLY
        if self.has_change_permission(request, obj):
            return ("key", *SHOWN_ONLY)
        return (*VIEW_FIELDS, "args", "kwargs")  # and no form fields at all

    def save_model(self, request: HttpRequest, obj: RecurringTask, form: Any, change: bool) -> None:
        """Save through ``schedule_recurring_task``, as the Python API does."""
        row = schedule_recurring_task(obj.key, **form.schedule_arguments())
        for field in RecurringTask._meta.concrete_fields:
            setattr(obj, field.attname, getattr(row, field.attname))
        obj._state.adding = False
        obj._state.db = row._state.db

    def delete_model(self, request: HttpRequest, obj: RecurringTask) -> None:
        unschedule_recurring_task(obj.key)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[RecurringTask]) -> None:
        for key in queryset.values_list("key", flat=True):
            unschedule_recurring_task(key)

    @admin.action(permissions=["delete"], description="Delete selected dynamic tasks")
    def delete_selected(
        self, request: HttpRequest, queryset: QuerySet[RecurringTask]
    ) -> HttpResponse | None:
        """Django's delete (with its confirmation page) for the dynamic tasks selected; static
        ones are left alone, and the message says which."""
        static = Q(static=True) | Q(key__in=list(static_entries()))
        left = sorted(queryset.filter(static).values_list("key", flat=True))
        if left:
            self.message_user(
                request,
                "Static tasks are defined in settings and are not deleted here: "
                f"{', '.join(left)}.",
                messages.WARNING,
            )
        dynamic = queryset.exclude(static)
        if not dynamic.exists():
            return None
        response: HttpResponse | None = stock_delete_selected(self, request, dynamic)
        return response

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
    def next_run(self, task: RecurringTask) -> SafeString | str:
        """When it runs next, in the site's time zone (TIME_ZONE)."""
        try:
            moment = task.parsed_schedule().next_time(timezone.now())
        except Exception as exc:  # an invalid schedule shows why, it does not break the page
            return f"invalid schedule: {exc}"
        local = timezone.localtime(moment)
        return format_html(
            "{}<br><small>{}</small>", ago(moment), f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
        )

    @admin.display(description="queue", ordering="queue_name")
    def queue(self, task: RecurringTask) -> str:
        return task.queue_name or ""

    @admin.display(description="task or command")
    def target(self, task: RecurringTask) -> SafeString:
        """The task path or command line and, below, its arguments shortened."""
        what = task.task_path or f"$ {task.command or ''}"
        return format_html(
            '<code>{}</code><small class="solidq-sub">{}</small>', what, self.arguments(task)
        )

    def arguments(self, task: RecurringTask) -> str:
        parts = []
        if task.args:
            parts.append(short_json(task.args, 40))
        if task.kwargs:
            parts.append(short_json(task.kwargs, 40))
        return " ".join(parts)

    @admin.display(description="schedule", ordering="schedule")
    def schedule_display(self, task: RecurringTask) -> SafeString | str:
        """The schedule as written and, for a phrase, the cron line it means."""
        try:
            cron = task.parsed_schedule().cron
        except Exception:  # an invalid schedule: next run says why
            return task.schedule
        if cron.split() == task.schedule.split():
            return format_html("<code>{}</code>", task.schedule)
        return format_html("{}<br><small>cron <code>{}</code></small>", task.schedule, cron)

    @admin.display(description="last run", ordering="last_run_at")
    def last_run(self, task: RecurringTask) -> SafeString | str:
        """When it last ran and how that job is doing (or how it ended)."""
        when = ago(getattr(task, "last_run_at", None))
        if not when:
            return "never"
        job = getattr(task, "last_job", None)
        if job is None:
            return when  # its job was cleared, or the tick enqueued none
        url = reverse("admin:django_solidq_job_change", args=[job.pk])
        return format_html('{}<br><a href="{}">{}</a>', when, url, state_badge(job_state(job)))

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
