"""Mission Control speaks one vocabulary: counts in the right number, times that read, one name
per page, each action where it applies, red only for what destroys."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from django_solidq.admin import helpers
from django_solidq.models import Job, ScheduledExecution
from django_solidq.testing import perform_enqueued_jobs
from tests.admin.test_admin import act, change_url, messages_of
from tests.admin.test_admin_support import failed_job, make_jobs
from tests.app import tasks

pytestmark = pytest.mark.django_db

JOBS = reverse("admin:django_solidq_job_changelist")
DASHBOARD = reverse("admin:django_solidq_job_dashboard")
QUEUES = reverse("admin:django_solidq_job_queues")
PROCESSES = reverse("admin:django_solidq_process_changelist")
RECURRING = reverse("admin:django_solidq_recurringtask_changelist")


def test_counts_take_the_right_number():
    assert helpers.plural(1, "job") == "1 job"
    assert helpers.plural(0, "job") == "0 jobs"
    assert helpers.plural(1200, "pending job") == "1,200 pending jobs"


def test_a_moment_under_a_minute_ahead_reads_less_than_a_minute():
    now = timezone.now()
    assert helpers.ago(now + timedelta(seconds=20), now) == "in less than a minute"
    assert helpers.ago(now + timedelta(minutes=5, seconds=1), now) == "in 5\xa0minutes"
    assert helpers.ago(now - timedelta(seconds=12), now) == "12 s ago"


class TestMessagesArePluralised:
    def test_one_job_and_several_jobs(self, admin_client):
        one = failed_job("a")
        response = act(admin_client, "retry_jobs", [one.pk])
        assert "Retried 1 job." in messages_of(response)
        several = [failed_job(str(i)).pk for i in range(3)]
        response = act(admin_client, "discard_jobs", several)
        assert "Discarded 3 jobs." in messages_of(response)

    def test_no_page_or_message_says_job_s(self, admin_client):
        jobs = make_jobs()
        pages = [DASHBOARD, QUEUES, PROCESSES, RECURRING, JOBS, change_url(jobs.failed)]
        pages += [f"{JOBS}?status={state}" for state, _ in helpers.STATES]
        for url in pages:
            assert "(s)" not in admin_client.get(url).content.decode(), url
        response = act(admin_client, "discard_jobs", [jobs.claimed.pk, jobs.finished.pk])
        assert not [m for m in messages_of(response) if "(s)" in m]
        from django.contrib.admin.models import LogEntry

        act(admin_client, "retry_jobs", [jobs.failed.pk])
        assert LogEntry.objects.get().change_message == "Retry (retried 1 of 1 job in one click)"


class TestScheduledJobsSayWhenTheyRun:
    def when(self, admin_client) -> str:
        return admin_client.get(JOBS, {"status": "scheduled"}).content.decode()

    def test_soon_reads_less_than_a_minute(self, admin_client):
        tasks.add.using(run_after=timedelta(seconds=30)).enqueue(1, 1)
        content = self.when(admin_client)
        assert "runs in less than a minute" in content and "0 minutes" not in content

    def test_overdue_reads_due(self, admin_client):
        result = tasks.add.using(run_after=timedelta(seconds=30)).enqueue(1, 1)
        ScheduledExecution.objects.filter(job_id=result.id).update(
            scheduled_at=timezone.now() - timedelta(seconds=5)
        )
        assert "due now" in self.when(admin_client)
        ScheduledExecution.objects.filter(job_id=result.id).update(
            scheduled_at=timezone.now() - timedelta(minutes=3)
        )
        assert "due 3\xa0minutes ago" in self.when(admin_client)


class TestEachJobOffersTheActionsThatApply:
    def actions_on(self, admin_client, job: Job) -> set[str]:
        response = admin_client.get(change_url(job))
        form = response.context["action_form"]
        if form is None:
            return set()
        return {value for value, _ in form.fields["action"].choices if value}

    def test_a_failed_job_is_retried_not_run_now(self, admin_client):
        jobs = make_jobs()
        assert self.actions_on(admin_client, jobs.failed) == {"retry_jobs", "discard_jobs"}
        assert self.actions_on(admin_client, jobs.scheduled) == {"run_jobs_now", "discard_jobs"}
        assert self.actions_on(admin_client, jobs.blocked) == {"run_jobs_now", "discard_jobs"}
        assert self.actions_on(admin_client, jobs.ready) == {"discard_jobs"}
        assert self.actions_on(admin_client, jobs.finished) == set()
        assert "Run now" not in admin_client.get(change_url(jobs.failed)).content.decode()

    def test_the_list_still_offers_every_action(self, admin_client):
        failed_job()
        choices = admin_client.get(JOBS).context["action_form"].fields["action"].choices
        assert {"retry_jobs", "discard_jobs", "run_jobs_now"} <= {value for value, _ in choices}


class TestOnlyDestructiveConfirmationsAreRed:
    def confirm(self, admin_client, action: str, job: Job) -> str:
        data = {"action": action, "_selected_action": [str(job.pk)], "index": "0"}
        return admin_client.post(JOBS, data).content.decode()

    def body_class(self, content: str) -> str:
        return content.split("<body", 1)[1].split(">", 1)[0]

    def test_retry_and_run_now_are_not_red(self, admin_client):
        jobs = make_jobs()
        retry = self.confirm(admin_client, "retry_jobs", jobs.failed)
        assert "Yes, retry" in retry and "delete-confirmation" not in self.body_class(retry)
        run = self.confirm(admin_client, "run_jobs_now", jobs.scheduled)
        assert "Yes, run now" in run and "delete-confirmation" not in self.body_class(run)

    def test_discard_is(self, admin_client):
        jobs = make_jobs()
        discard = self.confirm(admin_client, "discard_jobs", jobs.failed)
        assert "delete-confirmation" in self.body_class(discard)


class TestOneNamePerPage:
    def test_the_dashboard_is_mission_controls(self, admin_client):
        content = admin_client.get(DASHBOARD).content.decode()
        assert "Solid Queue dashboard" not in content
        assert "<h1>Dashboard</h1>" in content

    def test_processes_everywhere(self, admin_client):
        make_jobs()
        for url in (DASHBOARD, QUEUES, JOBS, PROCESSES, RECURRING):
            nav = admin_client.get(url).context["solidq_nav"]
            labels = [link["label"] for link in nav]
            assert "Processes" in labels and "Workers" not in labels, url
        content = admin_client.get(PROCESSES).content.decode()
        assert "<h1>Processes</h1>" in content
        index = admin_client.get(reverse("admin:app_list", args=["django_solidq"]))
        assert ">Processes</a>" in index.content.decode()
        assert ">Workers</a>" not in index.content.decode()


def test_every_queue_with_jobs_is_on_the_queues_page(admin_client):
    """The dashboard shows a queue whose jobs have all finished: so does the Queues page."""
    tasks.add.using(queue_name="mail").enqueue(1, 2)
    perform_enqueued_jobs()
    rows = {row["name"]: row for row in admin_client.get(QUEUES).context["queues"]}
    assert rows["mail"]["pending"] == 0 and rows["mail"]["failed"] == 0
    assert rows["mail"]["jobs_url"] == f"{JOBS}?queue=mail"
    dashboard = admin_client.get(DASHBOARD, {"window": "1h"}).context["latencies"]
    assert {row["name"] for row in dashboard} <= set(rows)
