"""Jobs by status, a job's detail page, and the retry / discard / run-now actions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import update_wrapper
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from django_solidq.models import (
    BlockedExecution,
    FailedExecution,
    Job,
    Process,
    ReadyExecution,
    ScheduledExecution,
)

from . import dashboard, queues
from .helpers import (
    BATCH_SIZE,
    BULK_LIMIT,
    COUNT_CAP,
    EXECUTIONS,
    PERMISSIONS,
    STATES,
    CappedPaginator,
    ReadOnlyAdmin,
    ago,
    capped_count,
    duration,
    job_state,
    navigation,
    plural,
    pretty_json,
    run_batched,
    short_class,
    short_json,
    show_count,
    state_badge,
)

ORDERINGS: dict[str, tuple[str, ...]] = {
    "ready": ("-readyexecution__priority", "readyexecution__id"),
    "scheduled": ("scheduledexecution__scheduled_at", "scheduledexecution__id"),
    "claimed": ("claimedexecution__created_at",),
    "blocked": ("-blockedexecution__priority", "blockedexecution__id"),
    "failed": ("-failedexecution__created_at",),
    "finished": ("-finished_at",),
    "discarded": ("-finished_at",),
}
FILTER_CHOICES = 100  # values offered by the task / queue / exception filters
TRACEBACK_TAIL = 6  # lines of the short traceback


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
        return [(t, t) for t in Job.objects.distinct_values("task_path", FILTER_CHOICES)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Job]) -> QuerySet[Job]:
        return queryset.filter(task_path=self.value()) if self.value() else queryset


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [(q, q) for q in Job.objects.distinct_values("queue_name", FILTER_CHOICES)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Job]) -> QuerySet[Job]:
        return queryset.filter(queue_name=self.value()) if self.value() else queryset


class ExceptionFilter(admin.SimpleListFilter):
    """On the Failed list: jobs whose failing error is of this class (indexed on the failed
    executions). On any other list: jobs with an attempt that raised it (on PostgreSQL a GIN
    index on the errors). Offered: the classes of the most recent failures."""

    title = "exception class"
    parameter_name = "exception"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        classes = FailedExecution.objects.recent_exception_classes(FILTER_CHOICES)
        return [(c, short_class(c)) for c in classes]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Job]) -> QuerySet[Job]:
        if not self.value():
            return queryset
        if request.GET.get("status") == "failed":
            return queryset.filter(failedexecution__exception_class=self.value())
        return queryset.raised(self.value())  # type: ignore[attr-defined]


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


def _when_text(iso: str) -> str:
    """An error entry's ISO time, localized, with its age."""
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    return f"{localize(timezone.localtime(moment))} ({ago(moment)})"


# --- actions --------------------------------------------------------------------------------


def _discard(job_ids: list[Any]) -> int:
    return sum(
        model.objects.filter(job_id__in=job_ids).discard()
        for model in (ReadyExecution, ScheduledExecution, BlockedExecution, FailedExecution)
    )


def _without(model: type[models.Model]) -> Any:
    """Jobs without a row in ``model``: ``NOT EXISTS``, an anti-join the planner estimates
    well (``LEFT JOIN … WHERE x.id IS NULL`` it takes for 1 row, and scans everything)."""
    return ~Exists(model._default_manager.filter(job_id=OuterRef("pk")))


def _only(sentence: str, *models: type[models.Model]) -> Callable[..., list[str]]:
    """A note when some selected jobs have no row in any of ``models`` (so are left alone)."""

    def notes(queryset: QuerySet[Job], status: str | None) -> list[str]:
        if queryset.filter(*(_without(model) for model in models)).exists():
            return [f"{sentence}; the other selected jobs are left alone."]
        return []

    return notes


def _running_or_ended(queryset: QuerySet[Job], status: str | None) -> list[str]:
    notes = []
    running = capped_count(queryset.filter(claimedexecution__isnull=False))
    if running:
        notes.append(
            f"{_jobs(running, 'running job')} {_are(running)} left alone: a running job cannot "
            "be discarded, it is in a worker's hands and finishes or fails on its own."
        )
    if status in EXECUTIONS:
        # Jobs of an execution table have not ended; asking the database would make it
        # look through every one of them (or every finished job) to find none.
        return notes
    ended = capped_count(queryset.filter(finished_at__isnull=False))
    if ended:
        notes.append(f"{_jobs(ended)} had already ended and {_are(ended)} left alone.")
    return notes


def _jobs(n: int, noun: str = "job") -> str:
    """A capped count of jobs in words: '1 job', '3 running jobs', 'more than 10,000 jobs'."""
    return f"{show_count(n)} {noun if n == 1 else noun + 's'}"


def _are(n: int) -> str:
    return "is" if n == 1 else "are"


Part = tuple[str, QuerySet[Job]]  # a job state, the selected jobs in it


@dataclass(frozen=True)
class BulkAction:
    name: str  # the ModelAdmin method
    verb: str  # "Retry"
    done: str  # what it did, "{jobs}" standing for the jobs: "retried {jobs}"
    explain: str  # which jobs it applies to and what it does
    # The job states it applies to: the selection is read state by state, each part through
    # its execution table (never "every job that is not running", a scan of the whole table).
    states: tuple[str, ...]
    work: Callable[[list[Any]], int]  # job ids -> how many it changed
    # selected jobs, the list's status filter -> what the confirmation and the result say
    notes: Callable[[QuerySet[Job], str | None], list[str]]
    # True of a job this action changed: the History records those, not the jobs skipped
    # because a worker or dispatcher took them meanwhile.
    outcome: Callable[[], Any]
    batch_size: int = BATCH_SIZE
    destructive: bool = False  # its confirmation button is red, as a deletion's

    def said(self, jobs: str) -> str:
        """What it did, as a sentence: 'Retried 3 jobs.'"""
        text = self.done.format(jobs=jobs)
        return f"{text[0].upper()}{text[1:]}."

    def parts(self, queryset: QuerySet[Job], status: str | None) -> list[Part]:
        """The eligible jobs of a selection: (state, its jobs) for each state."""
        if status in self.states:
            return [(status, queryset)]  # the list is already filtered by the status
        if status:
            return []  # a list of jobs in another state: none is eligible
        return [(state, filter_state(queryset, state)) for state in self.states]

    def count(self, parts: list[Part], cap: int) -> int:
        total = 0
        for _, part in parts:
            total += capped_count(part, cap - total)
            if total > cap:
                break
        return total

    def job_ids(self, parts: list[Part], limit: int) -> list[Any]:
        ids: list[Any] = []
        for _, part in parts:
            if len(ids) >= limit:
                break
            ids += part.values_list("pk", flat=True)[: limit - len(ids)]
        return ids


def _run_now(job_ids: list[Any]) -> int:
    # Blocked jobs first: a limited scheduled job made due now may block behind its limit,
    # and must stay blocked (run outside the limit only when picked while blocked).
    return (
        BlockedExecution.objects.filter(job_id__in=job_ids).run_now()
        + ScheduledExecution.objects.filter(job_id__in=job_ids).run_now()
    )


RETRY = BulkAction(
    name="retry_jobs",
    verb="Retry",
    done="retried {jobs}",
    explain="Failed jobs go back to their queue and run again; their errors are kept.",
    states=("failed",),
    work=lambda ids: FailedExecution.objects.filter(job_id__in=ids).retry(),
    notes=_only("Only failed jobs can be retried", FailedExecution),
    outcome=lambda: Q(finished_at__isnull=True) & _without(FailedExecution),
)
DISCARD = BulkAction(
    name="discard_jobs",
    verb="Discard",
    done="discarded {jobs}",
    explain=(
        "Pending, scheduled, blocked and failed jobs end without running (again); they are "
        "kept, marked discarded."
    ),
    states=("ready", "scheduled", "blocked", "failed"),
    work=_discard,
    notes=_running_or_ended,
    outcome=lambda: Q(discarded_at__isnull=False),
    destructive=True,
)
RUN_NOW = BulkAction(
    name="run_jobs_now",
    verb="Run now",
    done="made {jobs} pending",
    explain=(
        "Scheduled jobs become pending now instead of at their scheduled time. Blocked jobs "
        "become pending now, outside their concurrency limit (they take no permit)."
    ),
    states=("scheduled", "blocked"),
    work=_run_now,
    notes=_only(
        "Only scheduled and blocked jobs can be run now", ScheduledExecution, BlockedExecution
    ),
    outcome=lambda: _without(ScheduledExecution) & _without(BlockedExecution),
)


BULK_ACTIONS = {action.name: action for action in (RETRY, DISCARD, RUN_NOW)}


def perform_bulk(
    model_admin: JobAdmin, request: HttpRequest, queryset: QuerySet[Job], action: BulkAction
) -> HttpResponse | None:
    """Confirm first (a page saying what will happen), then act: at most BULK_LIMIT jobs a
    click, in short transactions, with a message saying what happened and what is left."""
    queryset = queryset.order_by()
    # A list's selection is filtered by its status; a job page's is that one job.
    on_form = f"{ActionLocation.CHANGE_FORM.value}-action" in request.POST
    status = None if on_form else request.GET.get("status")
    parts = action.parts(queryset, status)
    # A list of one eligible state: nothing to exclude, nothing to explain (asking the
    # database would make it look through the whole selection to find none).
    notes = [] if status in action.states else action.notes(queryset, status)
    if request.POST.get("post") != "yes":
        return confirm_bulk(model_admin, request, parts, action, notes)
    ids = action.job_ids(parts, BULK_LIMIT)
    done, out_of_time = run_batched(ids, action.work, action.batch_size)
    level = messages.SUCCESS if done else messages.WARNING
    model_admin.message_user(request, action.said(plural(done, "job")), level)
    if done:
        log_action(request, action, ids, done)
    if done < len(ids) and not out_of_time:
        model_admin.message_user(
            request,
            f"{plural(len(ids) - done, 'job')} changed state meanwhile (a worker or "
            "dispatcher took them) and "
            f"{'was' if len(ids) - done == 1 else 'were'} left alone.",
            messages.WARNING,
        )
    if (out_of_time or len(ids) == BULK_LIMIT) and any(part.exists() for _, part in parts):
        model_admin.message_user(
            request,
            f"Stopped after {plural(done, 'job')} to keep this request short; more jobs match. "
            "Run the action again to continue.",
            messages.WARNING,
        )
    for note in notes:
        model_admin.message_user(request, note, messages.INFO)
    return None


def log_action(request: HttpRequest, action: BulkAction, ids: list[Any], done: int) -> None:
    """Record who did what in the admin's history (LogEntry), one entry per job acted on (the
    selected jobs now in the action's outcome), as Django's own "delete selected" does: each
    job's History page shows it."""
    from django.contrib.admin.models import CHANGE, LogEntry

    LogEntry.objects.log_actions(
        user_id=request.user.pk,  # type: ignore[arg-type]  # logged in: admin_view
        queryset=list(Job.objects.filter(action.outcome(), pk__in=ids).only("id", "task_path")),
        action_flag=CHANGE,
        change_message=f"{action.verb} "
        f"({action.done.format(jobs=f'{done:,} of {plural(len(ids), "job")}')} in one click)",
    )


def confirm_bulk(
    model_admin: JobAdmin,
    request: HttpRequest,
    parts: list[Part],
    action: BulkAction,
    notes: list[str],
) -> HttpResponse:
    count = action.count(parts, BULK_LIMIT)
    on_form = f"{ActionLocation.CHANGE_FORM.value}-action" in request.POST
    if on_form:
        hidden = [(f"{ActionLocation.CHANGE_FORM.value}-action", action.name)]
    else:
        hidden = [
            ("action", action.name),
            ("select_across", request.POST.get("select_across", "0")),
        ]
    hidden += [("_selected_action", pk) for pk in request.POST.getlist("_selected_action")]
    sample: list[Job] = []
    for state, part in parts:
        if len(sample) < 10:
            sample += (
                part.select_related(None)
                .only("id", "task_path", "queue_name")
                # In the list's order: an index walk of the state's table, not a hunt for
                # any 10.
                .order_by(*ORDERINGS[state])[: 10 - len(sample)]
            )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"{action.verb}: are you sure?",
        "opts": model_admin.model._meta,
        "action": action,
        "count": count,
        "count_display": show_count(count, BULK_LIMIT),
        "over_limit": count > BULK_LIMIT,
        "limit": BULK_LIMIT,
        "sample": sample,
        "notes": notes,
        "hidden": hidden,
        "solidq_nav": navigation(request, ""),
    }
    return TemplateResponse(request, "django_solidq/confirm_action.html", context)


# --- the list -------------------------------------------------------------------------------


class JobChangeList(ChangeList):
    """The job list; the running jobs' workers are named after the page is cut (one query for
    the page's few process ids, instead of a subquery that every count would carry)."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        # Never more than a page: with "show all" off, Django takes the whole queryset when
        # the count fits one page, and a count is a cap or an equivalent, never the rows.
        self.result_list = list(self.result_list[: self.list_per_page])
        process_ids = {job.claimed.process_id for job in self.result_list if job.claimed}
        if process_ids:
            names = dict(Process.objects.filter(id__in=process_ids).values_list("id", "name"))
            for job in self.result_list:
                if job.claimed is not None:
                    job.worker_name = names.get(job.claimed.process_id)


# Rows that hold exactly the jobs of a list filtered by status (plus these filters, on columns
# the execution table copies from its job): counted on that table alone, without the join.
COUNTED_FILTERS: dict[str, str] = {"queue": "queue_name"}
FAILED_FILTERS: dict[str, str] = {
    **COUNTED_FILTERS,
    "task": "task_path",
    "exception": "exception_class",
}
LIST_PARAMETERS = {"p", "o", "status"}


def counted_rows(request: HttpRequest) -> QuerySet[Any] | None:
    """For a list filtered by an execution status (and maybe its queue, or a failure's
    exception class) and nothing else: the execution rows to count instead of the jobs."""
    status = request.GET.get("status", "")
    if status not in EXECUTIONS or status == "claimed":
        return None
    model = Job._meta.get_field(EXECUTIONS[status]).related_model
    filters = FAILED_FILTERS if status == "failed" else COUNTED_FILTERS
    if set(request.GET) - LIST_PARAMETERS - set(filters):
        return None
    rows = model._default_manager.all()  # type: ignore[union-attr]
    # An empty value is no filter, for the list filters as here (the last value counts).
    return rows.filter(
        **{column: request.GET[key] for key, column in filters.items() if request.GET.get(key)}
    )


# --- the admin ------------------------------------------------------------------------------


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = [
        "job",
        "task",
        "queue",
        "priority",
        "attempts",
        "state",
        "when",
        "last_error",
    ]
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
    actions = ["retry_jobs", "discard_jobs", "run_jobs_now"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "job_id",
                    "state_display",
                    "task_path",
                    "queue_name",
                    "priority",
                    "backend",
                    "concurrency_key",
                    "attempts_display",
                    "worker_display",
                ]
            },
        ),
        ("Arguments", {"fields": ["args_display", "kwargs_display"]}),
        ("Return value", {"fields": ["return_value_display"]}),
        ("Timeline", {"fields": ["timeline_display"]}),
        ("Attempts and errors", {"fields": ["errors_display"]}),
    ]
    readonly_fields = [
        "job_id",
        "state_display",
        "attempts_display",
        "worker_display",
        "args_display",
        "kwargs_display",
        "return_value_display",
        "timeline_display",
        "errors_display",
    ]

    # permissions of the actions
    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERMISSIONS["retry"])

    def has_discard_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERMISSIONS["discard"])

    def has_run_now_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERMISSIONS["run_now"])

    def has_pause_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERMISSIONS["pause"])

    # list
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
        if status in dict(STATES):
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
            pass
        return queryset.search_arguments(term), False  # type: ignore[attr-defined]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        status = request.GET.get("status", "")
        label = dict(STATES).get(status)
        extra = {
            "solidq_nav": navigation(request, status if label else "all"),
            "title": f"{label} jobs" if label else "Jobs",
        }
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    # columns
    @admin.display(description="job", ordering="id")
    def job(self, job: Job) -> str:
        return str(job.pk)[:8]

    @admin.display(description="queue", ordering="queue_name")
    def queue(self, job: Job) -> str:
        return job.queue_name

    @admin.display(description="task", ordering="task_path")
    def task(self, job: Job) -> SafeString:
        """The task's name (its path in the title) and, below, its arguments shortened."""
        call = short_json(job.args)[1:-1] if job.args else ""
        if job.kwargs:
            pairs = ", ".join(f"{k}={short_json(v, 30)}" for k, v in job.kwargs.items())
            call = f"{call}, {pairs}" if call else pairs
        return format_html(
            '<span title="{}">{}</span><code class="solidq-sub" title="{}">{}</code>',
            job.task_path,
            short_class(job.task_path),
            call,
            call if len(call) <= 40 else call[:39] + "…",
        )

    @admin.display(description="attempts")
    def attempts(self, job: Job) -> int:
        return len(job.worker_ids) + (1 if job.claimed is not None else 0)

    @admin.display(description="status")
    def state(self, job: Job) -> SafeString:
        return state_badge(job_state(job))

    @admin.display(description="when", ordering="enqueued_at")
    def when(self, job: Job) -> SafeString:
        text, moment = self._when(job)
        return format_html(
            '<span title="{}">{}</span><br><small title="{}">enqueued {}</small>',
            localize(timezone.localtime(moment)) if moment else "",
            text,
            localize(timezone.localtime(job.enqueued_at)),
            ago(job.enqueued_at),
        )

    def _when(self, job: Job) -> tuple[str, Any]:
        state = job_state(job)
        if state == "scheduled":
            at = job.execution("scheduledexecution").scheduled_at
            if at > timezone.now():
                return f"runs {ago(at)}", at
            # Due, and not yet moved to pending by a dispatcher.
            return "due now" if ago(at).endswith(" s ago") else f"due {ago(at)}", at
        if state == "claimed":
            at = job.claimed.created_at  # type: ignore[union-attr]
            return f"started {ago(at)}", at
        if state in ("ready", "blocked", "failed"):
            row = job.execution(EXECUTIONS[state])
            at = row.created_at if row is not None else None
            verb = {"ready": "pending since", "blocked": "blocked", "failed": "failed"}[state]
            return (f"{verb} {ago(at)}" if state != "ready" else f"waiting {ago(at)}"), at
        took = ""
        if job.last_attempted_at and job.finished_at and state == "finished":
            took = f" in {duration(job.finished_at - job.last_attempted_at)}"
        return f"{state} {ago(job.finished_at)}{took}", job.finished_at

    @admin.display(description="last error")
    def last_error(self, job: Job) -> SafeString | str:
        if not job.errors:
            return ""
        error = job.errors[-1]
        path = str(error.get("exception_class_path", ""))
        message = str(error.get("message", ""))
        return format_html(
            '<span title="{}: {}"><strong>{}</strong> {}</span>',
            path,
            message,
            short_class(path),
            message if len(message) <= 80 else message[:79] + "…",
        )

    @admin.display(description="concurrency key")
    def concurrency(self, job: Job) -> SafeString | str:
        blocked = job.execution("blockedexecution")
        if blocked is None:
            return ""
        return format_html(
            '<code>{}</code><br><small title="{}">block expires {}</small>',
            blocked.concurrency_key,
            localize(timezone.localtime(blocked.expires_at)),
            ago(blocked.expires_at),
        )

    @admin.display(description="worker")
    def worker(self, job: Job) -> str:
        claim = job.claimed
        if claim is None:
            return ""
        return getattr(job, "worker_name", None) or f"process {claim.process_id}"

    # detail
    @admin.display(description="job id")
    def job_id(self, job: Job) -> str:
        return str(job.pk)

    @admin.display(description="status")
    def state_display(self, job: Job) -> SafeString:
        return state_badge(job_state(job))

    @admin.display(description="attempts")
    def attempts_display(self, job: Job) -> str:
        lost = job.lost_attempts()
        text = f"{self.attempts(job)} ({len(job.errors)} failed"
        return text + (f", {lost} lost with their worker)" if lost else ")")

    @admin.display(description="worker")
    def worker_display(self, job: Job) -> SafeString | str:
        claim = job.claimed
        ran = ", ".join(job.worker_ids)
        if claim is None:
            return f"ran on {ran}" if ran else "has not run"
        name = getattr(job, "worker_name", None)
        if name is None and claim.process_id is not None:
            name = (
                Process.objects.filter(id=claim.process_id).values_list("name", flat=True).first()
            )
        if name:
            url = reverse("admin:django_solidq_process_change", args=[claim.process_id])
            running = format_html('running now on <a href="{}">{}</a>', url, name)
        else:
            running = format_html("running now on process {} (gone)", claim.process_id)
        return format_html("{}{}", running, f"; earlier attempts on {ran}" if ran else "")

    @admin.display(description="positional")
    def args_display(self, job: Job) -> SafeString:
        return pretty_json(job.args)

    @admin.display(description="keyword")
    def kwargs_display(self, job: Job) -> SafeString:
        return pretty_json(job.kwargs)

    @admin.display(description="return value")
    def return_value_display(self, job: Job) -> SafeString | str:
        if job.finished_at is None or job.discarded_at is not None:
            return "(none: the job has not finished successfully)"
        return pretty_json(job.return_value)

    @admin.display(description="timeline")
    def timeline_display(self, job: Job) -> SafeString:
        rows = [(moment, text) for moment, text in self._timeline(job) if moment is not None]
        rows.sort(key=lambda row: row[0])
        now = timezone.now()
        body = [
            format_html(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                localize(timezone.localtime(moment)),
                ago(moment, now),
                text,
            )
            for moment, text in rows
        ]
        return format_html(
            '<table class="solidq-timeline"><tbody>{}</tbody></table>', mark_safe("".join(body))
        )

    def _timeline(self, job: Job) -> list[tuple[Any, str]]:
        from datetime import datetime

        events: list[tuple[Any, str]] = [(job.enqueued_at, "enqueued")]
        if job.scheduled_at and job.scheduled_at > job.enqueued_at:
            events.append((job.scheduled_at, "scheduled to run (run_after)"))
        for number, error in enumerate(job.errors, 1):
            try:
                at = datetime.fromisoformat(error.get("at", ""))
            except ValueError:
                continue
            events.append(
                (at, f"attempt {number} failed: {short_class(error['exception_class_path'])}")
            )
        if job.started_at:
            events.append((job.started_at, "first attempt started"))
        if job.last_attempted_at and job.last_attempted_at != job.started_at:
            events.append((job.last_attempted_at, "last attempt started"))
        for state, relation in EXECUTIONS.items():
            row = job.execution(relation)
            if row is None:
                continue
            if state == "scheduled":
                events.append((row.scheduled_at, "due: becomes pending"))
            if state == "blocked":
                events.append(
                    (row.expires_at, f"block on {row.concurrency_key!r} expires: retried then")
                )
            events.append((row.created_at, f"entered {dict(STATES)[state].lower()}"))
        if job.finished_at:
            ended = "discarded" if job.discarded_at else "finished successfully"
            events.append((job.finished_at, ended))
        return events

    @admin.display(description="attempts and errors")
    def errors_display(self, job: Job) -> SafeString | str:
        if not job.errors:
            return "No failed attempts."
        blocks = []
        for number, error in reversed(list(enumerate(job.errors, 1))):
            trace = str(error.get("traceback", ""))
            tail = "\n".join(trace.rstrip().splitlines()[-TRACEBACK_TAIL:])
            blocks.append(
                format_html(
                    '<div class="solidq-error"><h4>Attempt {} · {} · worker {}</h4>'
                    "<p><strong>{}</strong>: {}</p>"
                    '<pre class="solidq-pre">{}</pre>'
                    "<details><summary>Full traceback</summary>"
                    '<pre class="solidq-pre solidq-traceback">{}</pre></details></div>',
                    number,
                    _when_text(error.get("at", "")),
                    error.get("worker_id", "?"),
                    error.get("exception_class_path", ""),
                    error.get("message", ""),
                    tail,
                    trace,
                )
            )
        return mark_safe("".join(blocks))

    # actions
    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        job = self.get_object(request, unquote(object_id)) if object_id else None
        # The job's Action menu offers what applies to it (a failed job: Retry, Discard).
        request.solidq_job_state = job_state(job) if job is not None else None  # type: ignore[attr-defined]
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_actions(
        self, request: HttpRequest, action_location: ActionLocation = ActionLocation.CHANGE_LIST
    ) -> dict[str, Any]:
        actions = super().get_actions(request, action_location=action_location)
        state = getattr(request, "solidq_job_state", None)
        if action_location != ActionLocation.CHANGE_FORM or state is None:
            return actions
        return {
            name: action
            for name, action in actions.items()
            if name not in BULK_ACTIONS or state in BULK_ACTIONS[name].states
        }

    @admin.action(
        permissions=["retry"],
        description="Retry",
        description_plural="Retry selected failed jobs",
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )
    def retry_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> HttpResponse | None:
        return perform_bulk(self, request, queryset, RETRY)

    @admin.action(
        permissions=["discard"],
        description="Discard",
        description_plural="Discard selected jobs",
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )
    def discard_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> HttpResponse | None:
        return perform_bulk(self, request, queryset, DISCARD)

    @admin.action(
        permissions=["run_now"],
        description="Run now",
        description_plural="Run selected scheduled jobs now",
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )
    def run_jobs_now(self, request: HttpRequest, queryset: QuerySet[Job]) -> HttpResponse | None:
        return perform_bulk(self, request, queryset, RUN_NOW)

    # the other Mission Control pages live under this admin's URLs
    def get_urls(self) -> list[URLPattern]:
        def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
            def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
                return view(self, request, *args, **kwargs)

            wrapper.model_admin = self  # type: ignore[attr-defined]
            return update_wrapper(self.admin_site.admin_view(wrapper), view)

        info = "django_solidq_job"
        return [
            path("dashboard/", wrap(dashboard.dashboard_view), name=f"{info}_dashboard"),
            path("queues/", wrap(queues.queues_view), name=f"{info}_queues"),
            path("queues/pause/", wrap(queues.pause_view), name=f"{info}_queue_pause"),
            path("queues/resume/", wrap(queues.resume_view), name=f"{info}_queue_resume"),
            path("queues/clear/", wrap(queues.clear_view), name=f"{info}_queue_clear"),
            *super().get_urls(),
        ]
