"""How Mission Control's actions run: ``run_and_report``, the one way every action (the job
actions, clearing a queue) works through its jobs in batches and says what it did; and
``BulkAction``, an action on selected jobs (``job_actions`` has Retry, Discard, Run now).

A bulk action asks first (a page saying which jobs it will touch, which it leaves alone and
why), then acts on at most ``BULK_LIMIT`` jobs a click in short transactions, and records
who did what in the admin's history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.options import ActionLocation
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from django_solidq.models import Job

from .filters import ORDERINGS, filter_state
from .helpers import (
    BATCH_SIZE,
    BULK_LIMIT,
    capped_count,
    navigation,
    plural,
    run_batched,
    show_count,
)


def run_and_report(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    ids: list[Any],
    work: Callable[[list[Any]], int],
    said: Callable[[int], str],
    *,
    limit: int,
    more_left: Callable[[], bool],
    again: str = "Run the action again to continue.",
    batch_size: int = BATCH_SIZE,
) -> int:
    """Run ``work`` on ``ids`` batch by batch and tell the user what happened: ``said(done)``,
    the jobs a worker or dispatcher took meanwhile (skipped, not waited for), and whether
    more are left for another click (the time budget ran out, or ``limit`` was reached and
    ``more_left()``), and then ``again``. Returns how many were done."""
    done, out_of_time = run_batched(ids, work, batch_size)
    model_admin.message_user(request, said(done), messages.SUCCESS if done else messages.WARNING)
    skipped = len(ids) - done
    if skipped and not out_of_time:
        model_admin.message_user(
            request,
            f"{plural(skipped, 'job')} changed state meanwhile (a worker or dispatcher took "
            f"{'it' if skipped == 1 else 'them'}) and {'was' if skipped == 1 else 'were'} "
            "left alone.",
            messages.WARNING,
        )
    if (out_of_time or len(ids) >= limit) and more_left():
        model_admin.message_user(
            request,
            f"Stopped after {plural(done, 'job')} to keep this request short; more jobs are "
            f"left. {again}",
            messages.WARNING,
        )
    return done


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


# --- confirm, act, record -------------------------------------------------------------------


def _on_form(request: HttpRequest) -> bool:
    """The action was picked on a job's page (its selection is that job), not on a list."""
    return f"{ActionLocation.CHANGE_FORM.value}-action" in request.POST


def perform_bulk(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    queryset: QuerySet[Job],
    action: BulkAction,
) -> HttpResponse | None:
    """Confirm first (a page saying what will happen), then act: at most BULK_LIMIT jobs a
    click, in short transactions, with messages saying what happened and what is left."""
    queryset = queryset.order_by()
    # A list's selection is filtered by its status; a job page's is that one job.
    status = None if _on_form(request) else request.GET.get("status")
    parts = action.parts(queryset, status)
    # A list of one eligible state: nothing to exclude, nothing to explain (asking the
    # database would make it look through the whole selection to find none).
    notes = [] if status in action.states else action.notes(queryset, status)
    if request.POST.get("post") != "yes":
        return confirm_bulk(model_admin, request, parts, action, notes)
    ids = action.job_ids(parts, BULK_LIMIT)
    done = run_and_report(
        model_admin,
        request,
        ids,
        action.work,
        lambda n: action.said(plural(n, "job")),
        limit=BULK_LIMIT,
        more_left=lambda: any(part.exists() for _, part in parts),
        batch_size=action.batch_size,
    )
    if done:
        log_action(request, action, ids, done)
    for note in notes:
        model_admin.message_user(request, note, messages.INFO)
    return None


def log_action(request: HttpRequest, action: BulkAction, ids: list[Any], done: int) -> None:
    """Record who did what in the admin's history (LogEntry), one entry per job acted on (the
    selected jobs now in the action's outcome), as Django's own "delete selected" does: each
    job's History page shows it."""
    LogEntry.objects.log_actions(
        user_id=request.user.pk,  # type: ignore[arg-type]  # logged in: admin_view
        queryset=list(Job.objects.filter(action.outcome(), pk__in=ids).only("id", "task_path")),
        action_flag=CHANGE,
        change_message=f"{action.verb} "
        f"({action.done.format(jobs=f'{done:,} of {plural(len(ids), "job")}')} in one click)",
    )


def confirm_bulk(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    parts: list[Part],
    action: BulkAction,
    notes: list[str],
) -> HttpResponse:
    count = action.count(parts, BULK_LIMIT)
    if _on_form(request):
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
