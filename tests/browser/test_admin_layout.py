"""Every Mission Control list fits a laptop screen (1366 px): no sideways scroll of its table,
and its key columns in view — with long task names, errors, arguments, queue and host names."""

from __future__ import annotations

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
from tests.admin.test_admin_support import blocked_job, failed_job, make_jobs
from tests.app import tasks
from tests.browser.conftest import LAPTOP_WIDTH
from tests.browser.test_admin_browser import log_in

pytestmark = pytest.mark.django_db(transaction=True)

TASK = "app.billing.tasks.reconcile_outstanding_invoices_for_every_account"
QUEUE = "billing-reconciliation-eu-west-1"
HOST = "ip-10-0-12-34.eu-west-1.compute.internal"
ERROR = (
    "HTTPSConnectionPool(host='payments.example.com', port=443): Max retries exceeded with "
    "url: /v1/charges/ch_3NkLmT2eZvKYlo2C1a2b3c4d5e6f7g8h9i0?expand[]=balance_transaction"
    "&expand[]=customer (Caused by NewConnectionError('Failed to establish a new connection'))"
)
ARGS = ["invoice-2026-11-000123456789-ACME-CORPORATION-INTERNATIONAL", {"retry": True}]

# (path, the column headers that must be in view)
LISTS = {
    "/admin/django_solidq/job/": ["job", "task", "status", "when", "last error"],
    "/admin/django_solidq/job/?status=ready": ["job", "task", "queue", "when"],
    "/admin/django_solidq/job/?status=scheduled": ["job", "task", "queue", "when"],
    "/admin/django_solidq/job/?status=claimed": ["job", "task", "when", "worker"],
    "/admin/django_solidq/job/?status=blocked": ["job", "task", "when", "concurrency key"],
    "/admin/django_solidq/job/?status=failed": ["job", "task", "queue", "when", "last error"],
    "/admin/django_solidq/job/?status=finished": ["job", "task", "queue", "when"],
    "/admin/django_solidq/job/?status=discarded": ["job", "task", "when", "last error"],
    "/admin/django_solidq/job/queues/": ["queue", "pending", "latency", "failed", "state"],
    "/admin/django_solidq/process/": ["name", "kind", "last heartbeat", "status", "running jobs"],
    "/admin/django_solidq/recurringtask/": ["key", "schedule", "next run", "last run"],
}


def crowded_site() -> None:
    """Jobs, processes and recurring tasks with the longest values a real site has."""
    jobs = make_jobs()
    for _ in range(3):
        failed = failed_job(ERROR)
        errors = [{**failed.errors[-1], "exception_class_path": "requests.exceptions.SSLError"}]
        Job.objects.filter(pk=failed.pk).update(
            task_path=TASK, queue_name=QUEUE, args=ARGS, errors=errors
        )
        FailedExecution.objects.filter(job=failed).update(task_path=TASK, queue_name=QUEUE)
    for job in (jobs.ready, jobs.scheduled, jobs.claimed, jobs.finished, jobs.discarded):
        Job.objects.filter(pk=job.pk).update(task_path=TASK, queue_name=QUEUE, args=ARGS)
    Job.objects.filter(pk=jobs.discarded.pk).update(errors=failed.errors)
    blocked = blocked_job()
    Job.objects.filter(pk=blocked.pk).update(task_path=TASK, args=ARGS)
    blocked.blockedexecution.concurrency_key = f"{TASK}/account-000123456789"
    blocked.blockedexecution.save()
    ReadyExecution.objects.filter(job_id=jobs.ready.pk).update(queue_name=QUEUE)
    tasks.add.using(queue_name="mail-transactional-notifications-eu").enqueue(1, 2)
    Pause.objects.pause("reports-monthly-finance-exports-for-auditors")
    worker = Process.objects.get(pk=jobs.worker.pk)
    worker.name = f"worker-{HOST}-3f9a8b7c6d5e"
    worker.hostname = HOST
    worker.metadata = {"queues": [QUEUE, "mail-transactional-notifications-eu", "*"], "threads": 16}
    worker.save()
    Process.objects.register("supervisor", f"supervisor-{HOST}-0a1b2c3d4e5f")
    RecurringTask.objects.create(
        key="reconcile_outstanding_invoices_for_every_account_nightly",
        schedule="every weekday at 5:30am Europe/Berlin",
        task_path=TASK,
        args=ARGS,
        kwargs={"notify": ["finance@example.com", "auditors@example.com"]},
        queue_name=QUEUE,
        priority=10,
    )
    RecurringTask.objects.create(
        key="clear_expired_sessions_and_password_reset_tokens",
        schedule="*/15 * * * *",
        command="clearsessions --database=replica-eu-west-1-read-only-analytics",
    )
    RecurringExecution.objects.create(
        task_key="clear_expired_sessions_and_password_reset_tokens",
        run_at=timezone.now() - timedelta(minutes=7),
        job=jobs.finished,
    )


def overflow(page) -> dict:
    return page.evaluate(
        """() => {
            const table = document.querySelector('#result_list');
            const box = table.closest('.results') || table.parentElement;
            return {
                page: document.documentElement.scrollWidth - window.innerWidth,
                table: box.scrollWidth - box.clientWidth,
                right: Math.max(
                    box.getBoundingClientRect().right, table.getBoundingClientRect().right
                ),
            };
        }"""
    )


def test_every_list_fits_a_laptop_screen(page, live_server, admin_user):
    crowded_site()
    log_in(page, live_server)
    assert page.viewport_size["width"] == LAPTOP_WIDTH
    for path, columns in LISTS.items():
        Process.objects.update(last_heartbeat_at=timezone.now())
        assert page.goto(f"{live_server.url}{path}").status == 200, path
        sizes = overflow(page)
        assert sizes["page"] <= 0 and sizes["table"] <= 0, (path, sizes)
        assert sizes["right"] <= LAPTOP_WIDTH, (path, sizes)
        headers = page.locator("#result_list thead th")
        # (a sorted column's header starts with its sort priority)
        texts = [
            " ".join(t.split()).lower().lstrip("0123456789 ") for t in headers.all_inner_texts()
        ]
        for column in columns:
            assert column in texts, (path, column, texts)
            cell = headers.nth(texts.index(column))
            assert cell.is_visible(), (path, column)
            box = cell.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= LAPTOP_WIDTH, (path, column, box)
    # The full error is one hover (or one click) away.
    page.goto(f"{live_server.url}/admin/django_solidq/job/?status=failed")
    assert page.locator("#result_list [title*='balance_transaction']").count() == 3
