"""The job actions: Retry, Discard and Run now. Which jobs each applies to, what it does to
them and what it says about the others; run by ``actions.perform_bulk``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import ActionLocation
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse

from django_solidq.models import (
    BlockedExecution,
    FailedExecution,
    Job,
    ReadyExecution,
    ScheduledExecution,
)

from .actions import BulkAction, perform_bulk
from .helpers import EXECUTIONS, capped_count, show_count

# --- which jobs an action applies to, and the notes on the others ---------------------------


def _without(model: type[models.Model]) -> Any:
    """Jobs without a row in ``model``: ``NOT EXISTS``, an anti-join the planner estimates
    well (``LEFT JOIN … WHERE x.id IS NULL`` it takes for 1 row, and scans everything)."""
    return ~Exists(model._default_manager.filter(job_id=OuterRef("pk")))


def _only(sentence: str, *tables: type[models.Model]) -> Callable[..., list[str]]:
    """A note when some selected jobs have no row in any of ``tables`` (so are left alone)."""

    def notes(queryset: QuerySet[Job], status: str | None) -> list[str]:
        if queryset.filter(*(_without(model) for model in tables)).exists():
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


def _discard(job_ids: list[Any]) -> int:
    return sum(
        model.objects.filter(job_id__in=job_ids).discard()
        for model in (ReadyExecution, ScheduledExecution, BlockedExecution, FailedExecution)
    )


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


def applicable(offered: dict[str, Any], state: str) -> dict[str, Any]:
    """The actions of a job's page that apply to a job in ``state`` (a failed job: Retry,
    Discard; a running or ended one: none of these)."""
    return {
        name: action
        for name, action in offered.items()
        if name not in BULK_ACTIONS or state in BULK_ACTIONS[name].states
    }


PLACES = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]


@admin.action(
    permissions=["retry"],
    description="Retry",
    description_plural="Retry selected failed jobs",
    location=PLACES,
)
def retry_jobs(
    model_admin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Job]
) -> HttpResponse | None:
    return perform_bulk(model_admin, request, queryset, RETRY)


@admin.action(
    permissions=["discard"],
    description="Discard",
    description_plural="Discard selected jobs",
    location=PLACES,
)
def discard_jobs(
    model_admin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Job]
) -> HttpResponse | None:
    return perform_bulk(model_admin, request, queryset, DISCARD)


@admin.action(
    permissions=["run_now"],
    description="Run now",
    description_plural="Run selected scheduled jobs now",
    location=PLACES,
)
def run_jobs_now(
    model_admin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Job]
) -> HttpResponse | None:
    return perform_bulk(model_admin, request, queryset, RUN_NOW)
