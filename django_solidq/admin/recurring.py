"""The Recurring tasks page: key, schedule, what runs, when it last and next runs, and a
"Run now" action (``django_solidq.recurring.run_now``: enqueued outside the schedule).

Dynamic tasks (``static=False``) can be added, edited and removed here: the form checks its
entry with ``entry_problems`` (as the settings are checked, system checks E013 to E019) and saves
through ``schedule_recurring_task`` / ``unschedule_recurring_task``, as the Python API does.
Static tasks (from settings) are read-only. The fields shown, in the form and in the list,
follow the field table (``ENTRY_FIELDS``); the columns' display is in ``recurring_display``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as stock_delete_selected
from django.contrib.admin.options import ActionLocation
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from django_solidq.models import RecurringExecution, RecurringTask
from django_solidq.models.recurring_task import ENTRY_FIELDS
from django_solidq.recurring import (
    run_now,
    schedule_recurring_task,
    static_entries,
    unschedule_recurring_task,
)

from .helpers import PERMISSIONS, ReadOnlyAdmin, navigation
from .recurring_display import RecurringChangeList, RecurringDisplay
from .recurring_form import ADD_FIELDS, RecurringTaskForm, is_static


def _entry_fields() -> list[str]:
    """The entry's fields in the table's order, when it runs next after its schedule."""
    names = []
    for field in ENTRY_FIELDS:
        names += [field.column, "next_run"] if field.option == "schedule" else [field.column]
    return names


# A task's page: the entry's fields, then the row's own.
EDIT_FIELDS = ("key", *_entry_fields(), "static", "created_at", "updated_at", "recent_runs")
# A static task's page: the same fields, the arguments shown pretty-printed.
VIEW_FIELDS = tuple(
    {"args": "args_display", "kwargs": "kwargs_display"}.get(f, f) for f in EDIT_FIELDS
)
# The list: the key, each field's columns (in the table's order, once each), the row's own.
LIST_DISPLAY = (
    "key",
    *dict.fromkeys(name for field in ENTRY_FIELDS for name in field.listed),
    "static",
    "last_run",
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


@admin.register(RecurringTask)
class RecurringTaskAdmin(RecurringDisplay, ReadOnlyAdmin):
    """Read-only for static tasks; dynamic ones can be added, edited and deleted with the
    model's standard permissions (add / change / delete_recurringtask)."""

    nav_section = "recurring"
    form = RecurringTaskForm
    change_form_template = "django_solidq/recurring_change_form.html"

    list_display = LIST_DISPLAY
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
                result = run_now(task)
            except Exception as exc:  # a task that cannot be imported says why
                self.message_user(request, f"{task.key}: not enqueued: {exc}", messages.ERROR)
                continue
            url = reverse("admin:django_solidq_job_change", args=[result.id])
            self.message_user(
                request,
                format_html('{}: enqueued <a href="{}">job {}</a>.', task.key, url, result.id),
                messages.SUCCESS,
            )
