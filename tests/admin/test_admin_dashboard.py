"""The dashboard on a fresh site: a throughput window that fits the jobs there are, and the
waits of jobs enqueued before any worker ran told apart from waits in a queue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from django_solidq.admin import dashboard
from django_solidq.models import FailedExecution, Job, Process
from tests.admin.test_admin_support import failed_job

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("admin:django_solidq_job_dashboard")


def finished(minutes_ago: float, queue: str = "default", waited: float = 1.0) -> Job:
    now = timezone.now()
    end = now - timedelta(minutes=minutes_ago)
    started = end - timedelta(seconds=0.5)
    return Job.objects.create(
        task_path="t",
        queue_name=queue,
        enqueued_at=started - timedelta(seconds=waited),
        started_at=started,
        last_attempted_at=started,
        finished_at=end,
    )


def worker_started(minutes_ago: float) -> Process:
    worker = Process.objects.register("worker", f"worker-{minutes_ago}", queues=["*"])
    Process.objects.filter(pk=worker.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return worker


class TestTheWindowFitsTheData:
    def window(self, admin_client, **query) -> tuple[str, bool]:
        context = admin_client.get(DASHBOARD, query).context
        return context["window"] or context["window_label"], context["picked"]

    def test_an_empty_site_shows_the_last_hour(self, admin_client):
        assert self.window(admin_client) == ("1h", True)

    def test_a_site_minutes_old_shows_the_time_since_its_first_job(self, admin_client):
        for minutes in (0.5, 1, 3):
            finished(minutes)
        failed_job()
        assert self.window(admin_client) == ("4 min", True)
        response = admin_client.get(DASHBOARD)
        content = response.content.decode()
        assert "(last 4 min)" in content and "window fitted to the jobs" in content
        # Bars of 5 seconds, the jobs spread over them rather than piled in the last one.
        assert 'aria-label="Jobs finished and failed per 5 seconds"' in content
        assert (response.context["finished_total"], response.context["failed_total"]) == (3, 1)
        heights = re.findall(r'<rect class="ok" [^>]*height="([\d.]+)"', content)
        assert len(heights) > 40 and len([h for h in heights if float(h)]) == 3

    def test_older_jobs_widen_it(self, admin_client):
        finished(50)
        assert self.window(admin_client) == ("1h", True)
        failed = failed_job()
        FailedExecution.objects.filter(job=failed).update(
            created_at=timezone.now() - timedelta(hours=2)
        )
        assert self.window(admin_client) == ("3h", True)
        finished(20 * 60)
        assert self.window(admin_client) == ("24h", True)

    def test_jobs_older_than_a_day_are_not_looked_at(self, admin_client):
        finished(30 * 60)
        assert self.window(admin_client) == ("1h", True)

    def test_a_window_asked_for_is_kept(self, admin_client):
        finished(2)
        assert self.window(admin_client, window="6h") == ("6h", False)
        assert self.window(admin_client, hours="24") == ("24h", False)  # older links

    def test_the_picked_window_leaves_a_little_room(self):
        now = timezone.now()
        young = dashboard.window_for(now - timedelta(minutes=4), now)
        assert (young.key, young.label, young.step) == ("", "5 min", 5)
        assert dashboard.window_for(now - timedelta(minutes=14), now).key == "1h"
        assert dashboard.window_for(now - timedelta(minutes=55), now).key == "3h"
        assert dashboard.window_for(None, now).key == "1h"

    def test_a_busy_young_site_counts_per_minute(self, admin_client, monkeypatch):
        monkeypatch.setattr(dashboard, "RAW_CAP", 2)
        for minutes in (0.5, 1, 3):
            finished(minutes)
        content = admin_client.get(DASHBOARD).content.decode()
        assert 'aria-label="Jobs finished and failed per minute"' in content


class TestStartUpWaits:
    def test_jobs_due_before_any_worker_ran_are_counted_apart(self, admin_client):
        worker_started(minutes_ago=10)
        for waited in (1, 2, 3):
            finished(5, "mail", waited=waited)  # due 5 minutes ago: a worker was running
        for _ in range(4):
            # Enqueued 12 minutes ago, started 9 minutes ago: waited for the worker to start.
            finished(9, "mail", waited=180)
        finished(9, "reports", waited=180)
        rows = {
            row["name"]: row
            for row in admin_client.get(DASHBOARD, {"window": "1h"}).context["latencies"]
        }
        assert (rows["mail"]["p50"], rows["mail"]["p95"], rows["mail"]["jobs"]) == (2, 3, 3)
        assert rows["mail"]["startup"] == 4 and rows["mail"]["startup_max"] == 180
        assert rows["reports"]["p50"] is None and rows["reports"]["startup"] == 1
        content = admin_client.get(DASHBOARD, {"window": "1h"}).content.decode()
        assert "5 jobs due before any worker was running (mail 4, reports 1)" in content
        assert "up to 3.0 min, not in a queue" in content
        assert "only start-up waits (below)" in content  # reports' median

    def test_without_workers_every_wait_counts(self, admin_client):
        finished(5, waited=180)
        rows = admin_client.get(DASHBOARD, {"window": "1h"}).context["latencies"]
        assert rows[0]["p50"] == 180 and rows[0]["startup"] == 0

    def test_no_running_worker_is_said(self, admin_client):
        assert "No worker is running" in admin_client.get(DASHBOARD).content.decode()
        worker_started(minutes_ago=1)
        assert "No worker is running" not in admin_client.get(DASHBOARD).content.decode()
