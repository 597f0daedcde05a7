"""Mission Control in a real browser: log in, read a failed job's traceback, retry it, pause a
queue. With SOLIDQ_SCREENSHOTS=1 the last test also photographs every page for docs/admin.md."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from django_solidq.models import (
    FailedExecution,
    Job,
    Pause,
    Process,
    ReadyExecution,
    RecurringExecution,
    RecurringTask,
)
from django_solidq.testing import perform_enqueued_jobs
from tests.admin.test_admin_support import failed_job, make_jobs
from tests.app import tasks

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, live_server, username: str = "admin", password: str = "password") -> None:
    page.goto(f"{live_server.url}/admin/login/?next=/admin/django_solidq/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/django_solidq/$"))


def test_read_a_failed_jobs_traceback_and_retry_it(page, live_server, admin_user, screenshot):
    failed = failed_job("card <declined>")
    log_in(page, live_server)
    page.click("text=Failed jobs")
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() == 1
    assert "card <declined>" in page.inner_text("#result_list")  # shown as text, not markup
    page.click(f"#result_list a:has-text('{str(failed.pk)[:8]}')")
    page.wait_for_selector(".solidq-error")
    assert "tests.app.tasks.Boom" in page.inner_text(".solidq-error")
    full = page.locator(".solidq-traceback")
    assert not full.is_visible()
    page.click("text=Full traceback")
    assert full.is_visible()
    assert "raise Boom(message)" in full.inner_text()
    screenshot("job-detail")
    page.select_option("select[name='CHANGE_FORM-action']", "retry_jobs")
    page.click(".actions button[type=submit]")
    page.wait_for_selector("text=Yes, retry")
    # Not a deletion: the admin's ordinary button, not a red one.
    red = page.evaluate(
        "getComputedStyle(document.querySelector('input[type=submit]')).backgroundColor"
    )
    assert red != "rgb(186, 33, 33)"
    screenshot("confirm-retry")
    page.click("text=Yes, retry")
    page.wait_for_selector("ul.messagelist")
    assert "Retried 1 job." in page.inner_text("ul.messagelist")
    assert ReadyExecution.objects.filter(job_id=failed.pk).exists()
    assert not FailedExecution.objects.exists()


def test_retry_every_failed_job_from_the_list(page, live_server, admin_user):
    for i in range(3):
        failed_job(f"failure {i}")
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/django_solidq/job/?status=failed")
    page.check("#action-toggle")
    page.select_option("select[name=action]", "retry_jobs")
    page.click(".actions button[type=submit]")
    page.wait_for_selector("text=Retry 3 jobs?")
    page.click("text=Yes, retry")
    page.wait_for_selector("ul.messagelist")
    assert "Retried 3 jobs." in page.inner_text("ul.messagelist")
    assert FailedExecution.objects.count() == 0


def test_pause_and_resume_a_queue(page, live_server, admin_user):
    tasks.add.using(queue_name="mail").enqueue(1, 2)
    log_in(page, live_server)
    page.click("text=Queues")
    row = page.locator("tr[data-queue='mail']")
    assert "running" in row.inner_text()
    row.locator("button:has-text('Pause')").click()
    page.wait_for_selector("ul.messagelist")
    assert "Paused queue 'mail'" in page.inner_text("ul.messagelist")
    assert "paused" in page.locator("tr[data-queue='mail']").inner_text()
    assert Pause.objects.is_paused("mail")
    page.locator("tr[data-queue='mail'] button:has-text('Resume')").click()
    page.wait_for_selector("text=Resumed queue 'mail'")
    assert not Pause.objects.is_paused("mail")


def test_a_viewer_cannot_act(page, live_server, db):
    from tests.admin.test_admin_support import client_with

    client_with("view_job", username="viewer")
    from django.contrib.auth.models import User

    viewer = User.objects.get(username="viewer")
    viewer.set_password("pw")
    viewer.save()
    failed = failed_job()
    tasks.add.using(queue_name="mail").enqueue(1, 2)
    log_in(page, live_server, "viewer", "pw")
    page.goto(f"{live_server.url}/admin/django_solidq/job/queues/")
    assert page.locator("tr[data-queue='mail']").count() == 1
    assert page.locator("button:has-text('Pause')").count() == 0
    page.goto(f"{live_server.url}/admin/django_solidq/job/{failed.pk}/change/")
    assert page.locator("select[name='CHANGE_FORM-action']").count() == 0


def busy_site() -> None:
    """Enough history for the screenshots: finished and failed jobs over two and a half hours
    (the dashboard fits its window to them: 3 h), workers running for four."""
    rng = random.Random(7)
    make_jobs()
    for i in range(40):
        tasks.add.enqueue(i, i)
        tasks.echo.using(queue_name="mail").enqueue(f"user-{i}@example.com", template="welcome")
    perform_enqueued_jobs()
    for _ in range(6):
        failed_job(rng.choice(["SMTP timeout", "card declined", "rate limited (429)"]))
    now = timezone.now()
    for job in Job.objects.filter(finished_at__isnull=False, discarded_at__isnull=True):
        end = now - timedelta(minutes=rng.randint(0, 150), seconds=rng.randint(0, 59))
        started = end - timedelta(milliseconds=rng.randint(5, 4000))
        Job.objects.filter(pk=job.pk).update(
            finished_at=end,
            last_attempted_at=started,
            started_at=started,
            enqueued_at=started - timedelta(milliseconds=rng.randint(20, 2500)),
        )
    for failed in FailedExecution.objects.all():
        at = now - timedelta(minutes=rng.randint(0, 150))
        FailedExecution.objects.filter(pk=failed.pk).update(created_at=at)
        Job.objects.filter(pk=failed.job_id).update(enqueued_at=at - timedelta(seconds=2))
    for i in range(25):
        tasks.echo.using(queue_name="mail").enqueue(f"later-{i}")
    tasks.add.using(queue_name="reports", priority=5).enqueue(9, 9)
    Pause.objects.pause("reports")
    Process.objects.register("supervisor", "supervisor-web-1", processes=["worker", "dispatcher"])
    Process.objects.register("dispatcher", "dispatcher-1", polling_interval=1.0, batch_size=500)
    stale = Process.objects.register("worker", "worker-old", queues=["mail"], threads=5)
    Process.objects.filter(pk=stale.pk).update(
        last_heartbeat_at=now - timedelta(minutes=4), hostname="web-2"
    )
    Process.objects.update(created_at=now - timedelta(hours=4))
    RecurringTask.objects.create(
        key="nightly_report",
        schedule="every day at 3am",
        task_path="tests.app.tasks.add",
        args=[1, 2],
        queue_name="reports",
        description="Nightly totals",
    )
    RecurringTask.objects.create(
        key="cleanup", schedule="*/15 * * * *", command="manage.py clearsessions", static=False
    )
    RecurringExecution.objects.create(
        task_key="cleanup", run_at=now - timedelta(minutes=7), job=None
    )
    RecurringExecution.objects.create(
        task_key="nightly_report",
        run_at=now - timedelta(hours=14),
        job=Job.objects.filter(finished_at__isnull=False, discarded_at__isnull=True).first(),
    )


def test_every_page(page, live_server, admin_user, screenshot):
    busy_site()
    log_in(page, live_server)
    screenshot("app-index")
    pages = {
        "dashboard": "/admin/django_solidq/job/dashboard/",
        "jobs-failed": "/admin/django_solidq/job/?status=failed",
        "jobs-pending": "/admin/django_solidq/job/?status=ready",
        "jobs-scheduled": "/admin/django_solidq/job/?status=scheduled",
        "jobs-in-progress": "/admin/django_solidq/job/?status=claimed",
        "jobs-blocked": "/admin/django_solidq/job/?status=blocked",
        "jobs-finished": "/admin/django_solidq/job/?status=finished",
        "queues": "/admin/django_solidq/job/queues/",
        "processes": "/admin/django_solidq/process/",
        "recurring": "/admin/django_solidq/recurringtask/",
        "recurring-add": "/admin/django_solidq/recurringtask/add/",
    }
    for name, path in pages.items():
        # Alive for the picture (the tests' PROCESS_ALIVE_THRESHOLD is 5 s), but worker-old.
        Process.objects.exclude(name="worker-old").update(last_heartbeat_at=timezone.now())
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert page.locator(".solidq-nav").count() == 1, path
        screenshot(name)
    assert page.locator("svg.solidq-chart").count() == 0  # (on the dashboard only)
    page.goto(f"{live_server.url}/admin/django_solidq/job/dashboard/")
    assert page.locator("svg.solidq-chart rect.ok").count() > 10
    page.goto(f"{live_server.url}/admin/django_solidq/job/?status=failed")
    page.check("#action-toggle")
    page.select_option("select[name=action]", "discard_jobs")
    page.click(".actions button[type=submit]")
    page.wait_for_selector("text=Yes, discard")
    screenshot("confirm-discard")


def test_add_a_dynamic_recurring_task(page, live_server, admin_user):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/django_solidq/recurringtask/add/")
    page.fill("#id_key", "digest")
    page.fill("#id_schedule", "every blah")
    page.fill("#id_task_path", "tests.app.tasks.add")
    page.fill("#id_args", "[1, 2]")
    page.click("input[name=_save]")
    # Checked as a settings entry: the error sits by its field and nothing is saved.
    page.wait_for_selector(".errorlist")
    assert "Schedule is invalid" in page.locator(".field-schedule").inner_text()
    assert not RecurringTask.objects.filter(key="digest").exists()
    page.fill("#id_schedule", "every day at 7am")
    page.click("input[name=_save]")
    page.wait_for_selector("text=digest")
    task = RecurringTask.objects.get(key="digest")
    assert (task.static, task.task_path, task.args) == (False, "tests.app.tasks.add", [1, 2])
    row = page.locator("#result_list tr", has_text="digest")
    assert "0 7 * * *" in row.inner_text()  # the phrase's cron line


def test_a_retried_job_succeeds_once_a_worker_runs_it(page, live_server, admin_user, tmp_path):
    result = tasks.flaky_twice.enqueue(str(tmp_path / "n"))
    Job.objects.filter(id=result.id).update(exception_executions={"[tests.app.tasks.Flaky]": 9})
    perform_enqueued_jobs()  # fails, its retry rule used up: a failed job
    assert FailedExecution.objects.filter(job_id=result.id).exists()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/django_solidq/job/{result.id}/change/")
    page.select_option("select[name='CHANGE_FORM-action']", "retry_jobs")
    page.click(".actions button[type=submit]")
    page.click("text=Yes, retry")
    page.wait_for_selector("ul.messagelist")
    perform_enqueued_jobs(include_scheduled=True)  # a worker runs it (its retries reset)
    page.goto(f"{live_server.url}/admin/django_solidq/job/{result.id}/change/")
    assert "finished" in page.inner_text("#content").lower()
    assert "tests.app.tasks.Flaky" in page.inner_text(".solidq-error")  # history kept


def test_a_paused_queue_is_skipped_by_workers_until_resumed(page, live_server, admin_user):
    mail = tasks.add.using(queue_name="mail").enqueue(2, 3)
    log_in(page, live_server)
    page.click("text=Queues")
    page.locator("tr[data-queue='mail'] button:has-text('Pause')").click()
    page.wait_for_selector("ul.messagelist")
    other = tasks.add.enqueue(1, 1)
    ran = [r.id for r in perform_enqueued_jobs()]  # a worker polling every queue
    assert ran == [other.id]
    page.locator("tr[data-queue='mail'] button:has-text('Resume')").click()
    page.wait_for_selector("text=Resumed queue 'mail'")
    assert [r.id for r in perform_enqueued_jobs()] == [mail.id]


def test_run_a_recurring_task_now(page, live_server, admin_user):
    from django_solidq import schedule_recurring_task

    schedule_recurring_task("nightly", task="tests.app.tasks.noop", schedule="every day at 2am")
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/django_solidq/recurringtask/")
    page.check("input[name=_selected_action]")
    page.select_option("select[name=action]", "run_now")
    page.click(".actions button[type=submit]")
    page.wait_for_selector("ul.messagelist")
    assert "nightly: enqueued" in page.inner_text("ul.messagelist").lower()
    assert Job.objects.filter(task_path="tests.app.tasks.noop").count() == 1
    assert not RecurringExecution.objects.exists()  # its ticks are untouched
