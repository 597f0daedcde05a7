"""Hostile requests to Mission Control: every page and action for an anonymous user, staff
without the permission and staff with it; NUL characters and overlong parameters are a 400,
never a 500; payloads in arguments, errors and tracebacks are rendered escaped."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from django_solidq.admin.guard import MAX_QUERY_PARAMETER
from django_solidq.models import Job, Pause, ReadyExecution, RecurringTask
from django_solidq.testing import perform_enqueued_jobs
from tests.admin.test_admin_support import Jobs, client_with, make_jobs
from tests.app import tasks

pytestmark = pytest.mark.django_db

JOBS = reverse("admin:django_solidq_job_changelist")
DASHBOARD = reverse("admin:django_solidq_job_dashboard")
QUEUES = reverse("admin:django_solidq_job_queues")
PAUSE = reverse("admin:django_solidq_job_queue_pause")
RESUME = reverse("admin:django_solidq_job_queue_resume")
CLEAR = reverse("admin:django_solidq_job_queue_clear")
WORKERS = reverse("admin:django_solidq_process_changelist")
RECURRING = reverse("admin:django_solidq_recurringtask_changelist")
RECURRING_ADD = reverse("admin:django_solidq_recurringtask_add")
XSS = "<script>alert(1)</script>"


@pytest.fixture
def jobs() -> Jobs:
    return make_jobs()


def lenient(client: Client) -> Client:
    """The client, with server errors as 500 responses instead of exceptions."""
    client.raise_request_exception = False
    return client


def superuser() -> Client:
    from django.contrib.auth.models import User

    user = User.objects.create_superuser("boss", password="pw")
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def job_page(job: Job) -> str:
    return reverse("admin:django_solidq_job_change", args=[job.pk])


def action(name: str, job: Job) -> dict[str, object]:
    return {"action": name, "_selected_action": [str(job.pk)], "index": "0", "post": "yes"}


# Every page and action x who asks ------------------------------------------------------------
# (method, url or jobs -> url, data or jobs -> data, the permissions it needs, what changes)
def pages(jobs: Jobs) -> list[tuple[str, str, dict, tuple[str, ...]]]:
    return [
        ("get", JOBS, {}, ("view_job",)),
        ("get", JOBS, {"status": "failed"}, ("view_job",)),
        ("get", job_page(jobs.failed), {}, ("view_job",)),
        ("get", DASHBOARD, {}, ("view_job",)),
        ("get", QUEUES, {}, ("view_job",)),
        ("get", WORKERS, {}, ("view_process",)),
        ("get", RECURRING, {}, ("view_recurringtask",)),
        ("get", RECURRING_ADD, {}, ("add_recurringtask",)),
        ("post", PAUSE, {"queue": "default"}, ("view_job", "pause_queue")),
        ("post", RESUME, {"queue": "default"}, ("view_job", "pause_queue")),
        ("get", CLEAR, {"queue": "default"}, ("view_job", "discard_job")),
        ("post", CLEAR, {"queue": "default"}, ("view_job", "discard_job")),
        ("post", JOBS, action("retry_jobs", jobs.failed), ("view_job", "retry_job")),
        ("post", JOBS, action("discard_jobs", jobs.ready), ("view_job", "discard_job")),
        ("post", JOBS, action("run_jobs_now", jobs.scheduled), ("view_job", "run_job_now")),
    ]


def state(jobs: Jobs) -> tuple:
    """What any page or action could change."""
    return (
        ReadyExecution.objects.filter(job=jobs.ready).exists(),
        Job.objects.with_executions().get(pk=jobs.failed.pk).execution("failedexecution")
        is not None,
        Job.objects.with_executions().get(pk=jobs.scheduled.pk).execution("scheduledexecution")
        is not None,
        Pause.objects.count(),
        RecurringTask.objects.count(),
    )


def test_anonymous_users_get_the_login_page_for_every_page_and_action(jobs):
    before = state(jobs)
    client = Client(raise_request_exception=False)
    for method, url, data, _ in pages(jobs):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, (method, url)
        assert "/login/" in response["Location"], (method, url)
    assert state(jobs) == before


def test_staff_without_the_permission_changes_nothing_and_sees_nothing(jobs):
    before = state(jobs)
    for index, (method, url, data, needed) in enumerate(pages(jobs)):
        # every permission of Mission Control except the one this page needs
        allowed = {"view_job", "view_process", "view_recurringtask", "add_recurringtask"}
        allowed |= {"retry_job", "discard_job", "run_job_now", "pause_queue"}
        missing = needed[-1]
        client = lenient(client_with(*(allowed - {missing}), username=f"u{index}"))
        response = getattr(client, method)(url, data)
        if response.status_code == 302 and url == JOBS:  # an action it may not take
            follow = client.get(response["Location"])
            assert follow.status_code == 200
        else:
            assert response.status_code == 403, (method, url, data, response.status_code)
    assert state(jobs) == before


def test_staff_with_the_permission_gets_each_page_and_action(jobs):
    for index, (method, url, data, needed) in enumerate(pages(jobs)):
        client = lenient(client_with(*needed, username=f"u{index}"))
        response = getattr(client, method)(url, data)
        assert response.status_code in (200, 302), (method, url, data, response.status_code)
        if response.status_code == 302:
            assert "/login/" not in response["Location"]


# NUL and overlong parameters: a 400 everywhere -----------------------------------------------
HOSTILE_PARAMETERS = [
    {"q": "a\x00b"},
    {"status": "failed\x00"},
    {"queue": "\x00"},
    {"task": "tests.app.tasks.fail\x00"},
    {"exception": "\x00"},
    {"worker": "\x00"},
    {"o": "\x00"},
    {"p": "\x00"},
    {"hours": "\x00"},
    {"heartbeat": "\x00"},
    {"kind": "\x00"},
    {"static__exact": "\x00"},
    {"\x00": "1"},
    {"q": "x" * (MAX_QUERY_PARAMETER + 1)},
    {"queue": "q" * (MAX_QUERY_PARAMETER + 1)},
]


@pytest.mark.parametrize("params", HOSTILE_PARAMETERS, ids=lambda p: repr(p)[:30])
def test_nul_and_overlong_query_parameters_are_a_400_on_every_page(jobs, params):
    client = superuser()
    for url in (
        JOBS,
        DASHBOARD,
        QUEUES,
        CLEAR,
        WORKERS,
        RECURRING,
        RECURRING_ADD,
        job_page(jobs.failed),
    ):
        response = client.get(url, params)
        assert response.status_code == 400, (url, params, response.status_code)


@pytest.mark.parametrize("url", [PAUSE, RESUME, CLEAR])
@pytest.mark.parametrize("queue", ["de\x00fault", "\x00", "q" * 129])
def test_nul_or_overlong_queue_names_in_pause_resume_and_clear_are_a_4xx(jobs, url, queue):
    before = state(jobs)
    response = superuser().post(url, {"queue": queue})
    assert 400 <= response.status_code < 500, response.status_code
    assert state(jobs) == before


def test_a_nul_in_a_posted_action_or_form_is_a_400(jobs):
    client = superuser()
    data = {**action("discard_jobs", jobs.ready), "_selected_action": [f"{jobs.ready.pk}\x00"]}
    assert client.post(JOBS, data).status_code == 400
    form = {"key": "k\x00", "schedule": "@daily", "task_path": "tests.app.tasks.noop"}
    assert client.post(RECURRING_ADD, form).status_code == 400
    assert ReadyExecution.objects.filter(job=jobs.ready).exists()
    assert not RecurringTask.objects.exists()


def test_a_nul_in_the_path_is_a_4xx():
    response = superuser().get(JOBS + "%00/change/")
    assert 400 <= response.status_code < 500 or response.status_code == 302


# Payloads are rendered escaped ---------------------------------------------------------------
def test_payloads_in_arguments_errors_and_tracebacks_are_escaped():
    client = superuser()
    failed = tasks.fail.enqueue(XSS)
    tasks.echo.using(queue_name="q<b>").enqueue(XSS, **{XSS: XSS})
    perform_enqueued_jobs(queues=["default"])
    RecurringTask.objects.create(
        key=f"k{XSS}",
        schedule="@daily",
        task_path="tests.app.tasks.echo",
        args=[XSS],
        description=XSS,
        static=False,
    )
    pages_ = [
        JOBS,
        f"{JOBS}?status=failed",
        f"{JOBS}?status=ready",
        job_page(Job.objects.get(pk=failed.id)),
        QUEUES,
        DASHBOARD,
        RECURRING,
        reverse("admin:django_solidq_recurringtask_change", args=[RecurringTask.objects.get().pk]),
    ]
    for job in Job.objects.all():
        pages_.append(job_page(job))
    for url in pages_:
        response = client.get(url)
        assert response.status_code == 200, url
        assert XSS.encode() not in response.content, url
        assert b"<b>" not in response.content.replace(b"<b>broke", b""), url
