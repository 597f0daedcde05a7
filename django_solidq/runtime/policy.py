"""What follows a failed attempt: the task's retry/discard rules, then the lost-attempt cap."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.tasks import Task
from django.utils import timezone

from django_solidq.conf import get_config
from django_solidq.exceptions import LostAttemptError
from django_solidq.models import Job
from django_solidq.results import load_task
from django_solidq.retries import Decision, DiscardRule, RetryRule, decide
from django_solidq.runtime import joblog


def rules_of(task: Task | None) -> tuple[tuple[RetryRule, ...], tuple[DiscardRule, ...]]:
    """A SolidTask's rules; tasks of other task classes have none."""
    return tuple(getattr(task, "retry_on", ())), tuple(getattr(task, "discard_on", ()))


def max_lost_attempts(task: Task | None) -> int:
    """The task's ``max_lost_attempts`` option, else ``SOLIDQ['MAX_LOST_ATTEMPTS']``."""
    option = getattr(task, "max_lost_attempts", None)
    return option if isinstance(option, int) and option > 0 else get_config().max_lost_attempts


def decision_for(job: Job, task: Task | None, exc: BaseException) -> Decision:
    """Apply the task's rules to ``exc`` (updating the job's per-rule counters and, for a
    retry, its queue and priority); a lost attempt no rule claims falls under the cap."""
    counters = dict(job.exception_executions)
    retry_rules, discard_rules = rules_of(task)
    decision = decide(retry_rules, discard_rules, exc, counters)
    job.exception_executions = counters
    if decision.rule is None and isinstance(exc, LostAttemptError):
        if job.lost_attempts() < max_lost_attempts(task):
            return Decision("retry")
    if decision.action == "retry":
        job.queue_name = getattr(decision.rule, "queue_name", None) or job.queue_name
        priority = getattr(decision.rule, "priority", None)
        job.priority = job.priority if priority is None else priority
    return decision


def retry_time(decision: Decision) -> datetime | None:
    if decision.action != "retry":
        return None
    return timezone.now() + timedelta(seconds=decision.delay)


def after_lost_attempt(job: Job, exc: BaseException) -> tuple[datetime | None, bool]:
    """The ``Policy`` for jobs whose worker went away (see ``ClaimedExecution.lose``)."""
    try:
        task: Task | None = load_task(job)
    except Exception:
        task = None
    decision = decision_for(job, task, exc)
    fields = {**joblog.fields_of(job), "attempt": len(job.worker_ids)}  # counted already
    joblog.lost(fields, exc, again=decision.action == "retry")
    return retry_time(decision), decision.action == "discard"
