"""The Processes page: every registered process (workers, dispatchers, schedulers,
supervisors), its heartbeat, the jobs it is running."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from django_solidq.conf import get_config
from django_solidq.models import ClaimedExecution, Process

from .helpers import ReadOnlyAdmin, ago, navigation, pretty_json

RUNNING_SHOWN = 50  # jobs listed on a process's page


def _stale_cutoff() -> Any:
    return timezone.now() - timedelta(seconds=get_config().process_alive_threshold)


class HeartbeatFilter(admin.SimpleListFilter):
    title = "heartbeat"
    parameter_name = "heartbeat"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [("alive", "alive"), ("stale", "stale")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Process]) -> QuerySet[Process]:
        if self.value() == "alive":
            return queryset.filter(last_heartbeat_at__gte=_stale_cutoff())
        if self.value() == "stale":
            return queryset.filter(last_heartbeat_at__lt=_stale_cutoff())
        return queryset


@admin.register(Process)
class ProcessAdmin(ReadOnlyAdmin):
    nav_section = "processes"

    list_display = [
        "name",
        "kind",
        "hostname",
        "pid",
        "queues",
        "threads",
        "heartbeat",
        "status",
        "running",
    ]
    list_filter = ["kind", HeartbeatFilter]
    search_fields = ["name", "hostname"]
    ordering = ["kind", "name"]
    list_per_page = 100
    show_facets = admin.ShowFacets.NEVER
    fields = [
        "name",
        "kind",
        "hostname",
        "pid",
        "supervisor",
        "status",
        "heartbeat",
        "created_at",
        "metadata_display",
        "running_jobs",
    ]
    readonly_fields = [
        "supervisor",
        "status",
        "heartbeat",
        "metadata_display",
        "running_jobs",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Process]:
        claims = (
            ClaimedExecution.objects.filter(process_id=OuterRef("pk"))
            .order_by()
            .values("process_id")
            .annotate(n=Count("id"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(running_count=Coalesce(Subquery(claims), 0, output_field=IntegerField()))
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {
            "solidq_nav": navigation(request, "processes"),
            "title": "Processes",
            "solidq_note": (
                "A process whose heartbeat is older than "
                f"{get_config().process_alive_threshold:g} s is stale: its supervisor prunes it "
                "and its jobs go back to the queue."
            ),
        }
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    @admin.display(description="queues")
    def queues(self, process: Process) -> str:
        queues = process.metadata.get("queues")
        return ", ".join(queues) if isinstance(queues, list) else ""

    @admin.display(description="threads")
    def threads(self, process: Process) -> Any:
        return process.metadata.get("threads", "")

    @admin.display(description="last heartbeat", ordering="last_heartbeat_at")
    def heartbeat(self, process: Process) -> str:
        return ago(process.last_heartbeat_at)

    @admin.display(description="status")
    def status(self, process: Process) -> SafeString:
        if process.last_heartbeat_at < _stale_cutoff():
            return format_html(
                '<span class="solidq-badge solidq-failed" title="{}">stale</span>',
                "No heartbeat within PROCESS_ALIVE_THRESHOLD: presumed dead.",
            )
        return format_html('<span class="solidq-badge solidq-finished">{}</span>', "alive")

    @admin.display(description="running jobs", ordering="running_count")
    def running(self, process: Process) -> SafeString | str:
        count = getattr(process, "running_count", 0)
        if not count:
            return "0"
        url = reverse("admin:django_solidq_job_changelist")
        return format_html(
            '<a href="{}?status=claimed&amp;process={}">{}</a>', url, process.pk, count
        )

    @admin.display(description="supervisor")
    def supervisor(self, process: Process) -> SafeString | str:
        if process.supervisor_id is None:
            return ""
        url = reverse("admin:django_solidq_process_change", args=[process.supervisor_id])
        return format_html('<a href="{}">process {}</a>', url, process.supervisor_id)

    @admin.display(description="metadata")
    def metadata_display(self, process: Process) -> SafeString:
        return pretty_json(process.metadata)

    @admin.display(description="running jobs")
    def running_jobs(self, process: Process) -> SafeString | str:
        claims = list(
            process.claims()
            .select_related("job")
            .only("created_at", "job__id", "job__task_path", "job__queue_name")
            .order_by("created_at")[:RUNNING_SHOWN]
        )
        if not claims:
            return "None."
        rows = format_html_join(
            "",
            '<li><a href="{}">{}</a> on {} · started {}</li>',
            (
                (
                    reverse("admin:django_solidq_job_change", args=[claim.job.pk]),
                    claim.job.task_path,
                    claim.job.queue_name,
                    ago(claim.created_at),
                )
                for claim in claims
            ),
        )
        return format_html('<ul class="solidq-list">{}</ul>', rows)
