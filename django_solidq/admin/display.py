"""How a job reads in Mission Control: the list's columns and the detail page's fields.

Markup comes from ``format_html`` (its arguments escaped) or from templates
(``django_solidq/job/*.html``, autoescaped); nothing here marks a built string safe."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import admin
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.safestring import SafeString

from django_solidq.models import Job, Process

from .helpers import (
    EXECUTIONS,
    STATE_LABELS,
    ago,
    duration,
    job_state,
    pretty_json,
    short_class,
    short_json,
    state_badge,
)

TRACEBACK_TAIL = 6  # lines of the short traceback


def local(moment: datetime | None) -> str:
    return localize(timezone.localtime(moment)) if moment else ""


def when_text(iso: str) -> str:
    """An error entry's ISO time, localized, with its age."""
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    return f"{local(moment)} ({ago(moment)})"


def doing(job: Job) -> tuple[str, datetime | None]:
    """What the job is doing and since when: 'failed 3 minutes ago', 'runs in 5 minutes'."""
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
        verb = {"ready": "waiting", "blocked": "blocked", "failed": "failed"}[state]
        return f"{verb} {ago(at)}", at
    took = ""
    if job.last_attempted_at and job.finished_at and state == "finished":
        took = f" in {duration(job.finished_at - job.last_attempted_at)}"
    return f"{state} {ago(job.finished_at)}{took}", job.finished_at


def timeline(job: Job) -> list[tuple[datetime, str]]:
    """The job's life, in order: enqueued, scheduled, attempts, failures, how it ended."""
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
        events.append((row.created_at, f"entered {STATE_LABELS[state].lower()}"))
    if job.finished_at:
        events.append(
            (job.finished_at, "discarded" if job.discarded_at else "finished successfully")
        )
    return sorted(((at, text) for at, text in events if at is not None), key=lambda e: e[0])


class JobDisplay:
    """The job admin's columns (list) and read-only fields (a job's page)."""

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
        text, moment = doing(job)
        return format_html(
            '<span title="{}">{}</span><br><small title="{}">enqueued {}</small>',
            local(moment),
            text,
            local(job.enqueued_at),
            ago(job.enqueued_at),
        )

    @admin.display(description="last error")
    def last_error(self, job: Job) -> SafeString | str:
        if not job.errors:
            return ""
        path = str(job.errors[-1].get("exception_class_path", ""))
        message = str(job.errors[-1].get("message", ""))
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
            local(blocked.expires_at),
            ago(blocked.expires_at),
        )

    @admin.display(description="worker")
    def worker(self, job: Job) -> str:
        claim = job.claimed
        if claim is None:
            return ""
        return getattr(job, "worker_name", None) or f"process {claim.process_id}"

    # a job's page
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
            rows = Process.objects.filter(id=claim.process_id)
            name = rows.values_list("name", flat=True).first()
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
        now = timezone.now()
        events = [
            {"at": local(at), "ago": ago(at, now), "text": text} for at, text in timeline(job)
        ]
        return render_to_string("django_solidq/job/timeline.html", {"events": events})

    @admin.display(description="attempts and errors")
    def errors_display(self, job: Job) -> SafeString | str:
        if not job.errors:
            return "No failed attempts."
        errors = []
        for number, error in reversed(list(enumerate(job.errors, 1))):
            trace = str(error.get("traceback", ""))
            errors.append(
                {
                    "number": number,
                    "when": when_text(error.get("at", "")),
                    "worker": error.get("worker_id", "?"),
                    "path": error.get("exception_class_path", ""),
                    "message": error.get("message", ""),
                    "tail": "\n".join(trace.rstrip().splitlines()[-TRACEBACK_TAIL:]),
                    "traceback": trace,
                }
            )
        return render_to_string("django_solidq/job/errors.html", {"errors": errors})
