"""Jobs in every state and users with chosen permissions, for the admin tests (no tests here;
the name keeps it with them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.utils import timezone

from django_solidq.models import BlockedExecution, Job, Pause, Process, ReadyExecution
from django_solidq.testing import perform_enqueued_jobs
from tests.app import tasks

# Declared in Job.Meta.permissions and Pause.Meta.permissions; created here too, as a
# transactional test's flush removes the ones post_migrate made.
CUSTOM_PERMISSIONS = {
    "retry_job": (Job, "Can retry failed jobs"),
    "discard_job": (Job, "Can discard jobs and clear queues"),
    "run_job_now": (Job, "Can run scheduled jobs now"),
    "pause_queue": (Pause, "Can pause and resume queues"),
}


@dataclass
class Jobs:
    ready: Job
    scheduled: Job
    claimed: Job
    blocked: Job
    failed: Job
    finished: Job
    discarded: Job
    worker: Process


def ensure_custom_permissions() -> None:
    for codename, (model, name) in CUSTOM_PERMISSIONS.items():
        Permission.objects.get_or_create(
            content_type=ContentType.objects.get_for_model(model),
            codename=codename,
            defaults={"name": name},
        )


def client_with(*codenames: str, username: str = "operator") -> Client:
    """A logged-in staff user holding exactly these django_solidq permissions."""
    ensure_custom_permissions()
    user = User.objects.create_user(username, password="pw", is_staff=True)
    for codename in codenames:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="django_solidq", codename=codename)
        )
    client = Client()
    client.force_login(user)
    return client


def job(result_id: str) -> Job:
    return Job.objects.with_executions().get(id=result_id)


def failed_job(message: str = "boom") -> Job:
    result = tasks.fail.enqueue(message)
    perform_enqueued_jobs()
    return job(result.id)


def blocked_job() -> Job:
    result = tasks.add.enqueue(40, 2)
    row = job(result.id)
    ReadyExecution.objects.filter(job=row).delete()
    Job.objects.filter(pk=row.pk).update(concurrency_key="account-1")
    BlockedExecution.objects.create(
        job=row,
        queue_name=row.queue_name,
        priority=row.priority,
        concurrency_key="account-1",
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    return job(result.id)


def make_jobs() -> Jobs:
    failed = failed_job("it <b>broke</b>")
    finished = job(tasks.add.enqueue(1, 2).id)
    perform_enqueued_jobs()
    discarded = job(tasks.add.enqueue(3, 4).id)
    ReadyExecution.objects.filter(job=discarded).discard()
    worker = Process.objects.register("worker", "worker-1", queues=["*"], threads=3)
    claimed = job(tasks.echo.enqueue("running").id)
    ReadyExecution.objects.claim(["*"], 1, worker.id)
    ready = job(tasks.echo.enqueue("needle-in-args", flag=True).id)
    scheduled = job(tasks.add.using(run_after=timedelta(hours=1)).enqueue(5, 6).id)
    return Jobs(
        ready=ready,
        scheduled=scheduled,
        claimed=job(str(claimed.pk)),
        blocked=blocked_job(),
        failed=job(str(failed.pk)),
        finished=job(str(finished.pk)),
        discarded=job(str(discarded.pk)),
        worker=worker,
    )
