"""How the Recurring tasks page shows a task: its schedule (and the cron line a phrase means),
its next and last runs, what it runs, and its recent ticks."""

from __future__ import annotations

import uuid

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from django_solidq.models import Job, RecurringExecution, RecurringTask

from .helpers import ago, job_state, pretty_json, short_json, state_badge

RECENT_RUNS = 10


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


class RecurringDisplay:
    """The columns and read-only fields of ``RecurringTaskAdmin`` that are computed: each
    takes the task and returns what the page shows."""

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
