"""Job states in the admin's words (Pending, Scheduled, In progress, Failed, Finished...).

Django's ``TaskResultStatus`` says READY both for a job that is due and for one deferred with
``run_after``; Mission Control says Pending and Scheduled. The demo's console uses the
admin's labels, so what it prints is what the admin shows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from django_solidq.admin.helpers import STATE_LABELS, STATES, job_state
from django_solidq.models import Job


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


def states_of(ids: Iterable[str]) -> dict[str, str]:
    """Job id -> state ("ready", "scheduled", ...) for the given jobs, in one query."""
    jobs = Job.objects.with_executions().filter(pk__in=list(ids))
    return {str(job.pk): job_state(job) for job in jobs}


def count_states(task_prefix: str = "") -> Counter[str]:
    """How many jobs are in each state: every job, or those whose task path starts with
    ``task_prefix`` (``"demo."``: the sample jobs, not django_solidq's hourly clean-up)."""
    jobs = Job.objects.with_executions().filter(task_path__startswith=task_prefix)
    return Counter(job_state(job) for job in jobs)


def summary(counts: Counter[str]) -> str:
    """'2 Scheduled, 1 Failed, 56 Finished': the states in the order of the admin's menu."""
    parts = [f"{counts[state]} {label}" for state, label in STATES if counts[state]]
    return ", ".join(parts) or "no jobs"


def scheduled_jobs() -> list[tuple[str, datetime]]:
    """(task name, due time) of the jobs waiting for their time, soonest first."""
    jobs = Job.objects.filter(scheduledexecution__isnull=False).order_by(
        "scheduledexecution__scheduled_at"
    )
    return [(job.task_path.rsplit(".", 1)[-1], job.scheduledexecution.scheduled_at) for job in jobs]
