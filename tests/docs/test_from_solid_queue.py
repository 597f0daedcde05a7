"""The migration guide ``docs/from-solid-queue.md``: its examples run, and its code is theirs.

Every ```python block of the guide must be a verbatim excerpt of ``docs/examples/*.py`` or of
this file (pieces separated by a ``# ...`` line, in order, from one file), and every
``manage.py runjobs`` command line in it must parse. The tests below run the examples the
way a worker would (``perform_enqueued_jobs``).
"""

from __future__ import annotations

import dataclasses
import io
import logging
import re
import shlex
from datetime import datetime, time, timedelta
from pathlib import Path
from smtplib import SMTPException
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import OperationalError, connections
from django.tasks import TaskResultStatus
from django.tasks.exceptions import InvalidTask
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_solidq import ArgumentNotSerializable
from django_solidq.conf import queue_database, validate
from django_solidq.models import FailedExecution, Job, ScheduledExecution
from django_solidq.testing import enqueued_jobs, perform_enqueued_jobs
from docs.examples import config, enqueueing, jobs, services
from docs.examples.services import InvalidCardError, PaymentGatewayError

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "from-solid-queue.md"
SOURCES = [*sorted((ROOT / "docs" / "examples").glob("*.py")), Path(__file__)]


@pytest.fixture(autouse=True)
def fresh_services(settings):
    # Django 6.1's mail settings (the test settings predate them): mail goes to mail.outbox.
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    services.error_tracker.notices.clear()
    services.metrics.counters.clear()
    services.metrics.timings.clear()


@pytest.fixture
def user():
    return User.objects.create_user("ada", "ada@example.com")


def status_of(result):
    return jobs.send_welcome_email.get_backend().get_result(result.id)


# The guide and its code ------------------------------------------------------------------------
def code_blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", GUIDE.read_text(), re.M | re.S)


def appears_in(block: str, source: str) -> bool:
    """The block's pieces (split at ``# ...`` lines) are in ``source``, in this order."""
    position = 0
    for piece in re.split(r"^# \.\.\.\n", block, flags=re.M):
        position = source.find(piece.strip("\n"), position)
        if position < 0:
            return False
    return True


@pytest.mark.django_db(databases=[])
def test_every_python_block_of_the_guide_is_code_the_tests_run():
    blocks = code_blocks("python")
    assert len(blocks) > 30
    sources = {path: path.read_text() for path in SOURCES}
    orphans = [b for b in blocks if not any(appears_in(b, s) for s in sources.values())]
    assert orphans == [], "guide blocks not found verbatim in docs/examples or this test"


@pytest.mark.django_db(databases=[])
def test_every_runjobs_command_line_of_the_guide_parses():
    from django_solidq.management.commands.runjobs import Command

    parser = Command().create_parser("manage.py", "runjobs")
    lines = [
        line.split("manage.py runjobs", 1)[1].split("#")[0]
        for block in code_blocks("sh") + code_blocks("ini")
        for line in block.splitlines()
        if "manage.py runjobs" in line
    ]
    assert len(lines) >= 3
    for arguments in lines:
        parser.parse_args(shlex.split(arguments))


@pytest.mark.django_db(databases=[])
def test_the_guide_covers_every_section_of_the_solid_queue_reference():
    headings = set(re.findall(r"^#+ (.+)$", GUIDE.read_text(), re.M))
    expected = {
        "Installation", "Configuration", "Application configuration", "Running workers",
        "Basic job", "Queue names", "Job priority", "Retry configuration", "Job callbacks",
        "Enqueue immediately", "Delayed execution", "Bulk enqueuing", "Conditional enqueuing",
        "Recurring jobs", "Recurring job task", "Schedule syntax",
        "Basic job test", "Testing retries", "Testing with perform_enqueued_jobs",
        "Mission Control", "Logging", "Error tracking", "Metrics",
        "Keep jobs idempotent", "Pass IDs, not objects", "Break large jobs into smaller ones",
        "Handle failures gracefully", "Set appropriate timeouts",
    }  # fmt: skip
    assert expected - headings == set()


# Setup -----------------------------------------------------------------------------------------
def test_the_settings_snippets_pass_the_checks(settings):
    for snippet in (config.SOLIDQ_PRODUCTION, config.SOLIDQ_DEVELOPMENT):
        assert validate(snippet) == []
    assert validate(config.SOLIDQ_WITH_MIDDLEWARE) == []
    assert set(config.INSTALLED_APPS) <= set(settings.INSTALLED_APPS)
    backend = config.TASKS["default"]["BACKEND"]
    assert backend == "django_solidq.backend.SolidQueueBackend"


def test_runjobs_check_prints_what_the_production_snippet_runs(settings):
    settings.SOLIDQ = {**config.SOLIDQ_PRODUCTION, "DATABASE": queue_database()}
    out = io.StringIO()
    call_command("runjobs", "--check", stdout=out)
    assert out.getvalue().startswith("Configuration OK.")
    assert "running 5 processes" in out.getvalue()  # and the scheduler of the built-in cleanup
    assert out.getvalue().count("worker (5 threads, queues *, polling 0.1s)") == 3
    assert "dispatcher (batch 500, polling 1.0s)" in out.getvalue()


def test_the_separate_queue_database_snippet_routes_the_queue_tables(settings):
    from django.utils.module_loading import import_string

    settings.SOLIDQ = config.SOLIDQ_SEPARATE_DATABASE
    [router_class] = [import_string(path) for path in config.DATABASE_ROUTERS]
    router = router_class()
    assert router.db_for_write(Job) == "queue"
    assert router.allow_migrate("queue", "django_solidq") is True
    assert router.allow_migrate("default", "django_solidq") is False
    assert router.allow_migrate("default", "auth") is None
    assert set(config.DATABASES) == {"default", "queue"}


# Job creation ----------------------------------------------------------------------------------
def test_the_basic_job_sends_the_welcome_email(user, mailoutbox):
    result = enqueueing.welcome(user)
    assert Job.objects.get(id=result.id).queue_name == "mailers"
    [done] = perform_enqueued_jobs()
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert done.return_value == "ada@example.com"
    assert [m.to for m in mailoutbox] == [["ada@example.com"]]


def test_queue_as_sends_premium_users_to_the_fast_queue(user):
    other = User.objects.create_user("bob", "bob@example.com")
    user.groups.add(Group.objects.create(name="premium"))
    premium = jobs.notify_user.enqueue(user.pk, "hello")
    plain = jobs.notify_user.enqueue(other.pk, "hello")
    assert Job.objects.get(id=premium.id).queue_name == "high_priority"
    assert Job.objects.get(id=plain.id).queue_name == "default"
    assert [r.id for r in perform_enqueued_jobs(queues=["high_priority"])] == [premium.id]


def test_larger_priorities_run_first(user):
    assert jobs.send_urgent_notification.priority == 10
    later = jobs.export_user_data.enqueue(user.pk)
    urgent = jobs.send_urgent_notification.enqueue(user.pk)
    most_urgent = jobs.send_urgent_notification.using(priority=100).enqueue(user.pk)
    ran = [r.id for r in perform_enqueued_jobs()]
    assert ran == [most_urgent.id, urgent.id, later.id]
    with pytest.raises(InvalidTask):
        jobs.send_urgent_notification.using(priority=101)


def failing(exception, times):
    calls = []

    def charge(order_id):
        calls.append(order_id)
        if len(calls) <= times:
            raise exception(f"call {len(calls)}")
        return f"ch_{order_id}"

    return charge


def test_a_gateway_error_is_retried_until_it_succeeds(monkeypatch):
    monkeypatch.setattr(services.payment_gateway, "charge", failing(PaymentGatewayError, 2))
    result = jobs.process_payment.enqueue(42)
    perform_enqueued_jobs(include_scheduled=True)
    final = status_of(result)
    assert final.status == TaskResultStatus.SUCCESSFUL
    assert final.return_value == "ch_42"
    assert final.attempts == 3


def test_a_gateway_error_fails_the_job_after_five_attempts(monkeypatch):
    monkeypatch.setattr(services.payment_gateway, "charge", failing(PaymentGatewayError, 99))
    result = jobs.process_payment.enqueue(42)
    perform_enqueued_jobs(include_scheduled=True)
    final = status_of(result)
    assert final.status == TaskResultStatus.FAILED
    assert final.attempts == 5
    assert FailedExecution.objects.filter(job_id=result.id).exists()


def test_a_retry_waits_polynomially_longer_in_scheduled(monkeypatch):
    monkeypatch.setattr(services.payment_gateway, "charge", failing(PaymentGatewayError, 99))
    result = jobs.process_payment.enqueue(42)
    perform_enqueued_jobs()  # the first attempt only: its retry is scheduled 3 s later
    scheduled = ScheduledExecution.objects.get(job_id=result.id)
    assert 2 < (scheduled.scheduled_at - timezone.now()).total_seconds() <= 3.15
    assert status_of(result).status == TaskResultStatus.READY


def test_deadlocks_are_retried_three_times(monkeypatch):
    monkeypatch.setattr(services.payment_gateway, "charge", failing(OperationalError, 99))
    result = jobs.process_payment.enqueue(42)
    perform_enqueued_jobs()
    wait = ScheduledExecution.objects.get(job_id=result.id).scheduled_at - timezone.now()
    assert 4 < wait.total_seconds() <= 5.75  # 5 s plus up to 15 % jitter
    perform_enqueued_jobs(include_scheduled=True)
    assert status_of(result).attempts == 3
    assert status_of(result).status == TaskResultStatus.FAILED


def test_call_runs_the_function_itself_without_retries(monkeypatch):
    monkeypatch.setattr(services.payment_gateway, "charge", failing(PaymentGatewayError, 1))
    with pytest.raises(PaymentGatewayError):
        jobs.process_payment.call(42)
    assert not Job.objects.exists()


def test_the_callbacks_run_around_the_report(user, caplog):
    caplog.set_level(logging.INFO, logger="docs.examples.jobs")
    jobs.generate_report.enqueue("weekly")
    [done] = perform_enqueued_jobs()
    assert done.return_value == {"report": "weekly", "users": 1}
    messages = [r.getMessage() for r in caplog.records if r.name == "docs.examples.jobs"]
    assert messages[:2] == [
        "Starting report generation for weekly",
        "Completed report generation for weekly",
    ]
    assert re.fullmatch(r"Report generation took \d+\.\d{3} seconds", messages[2])


# Scheduling ------------------------------------------------------------------------------------
def test_enqueue_now_with_options(user):
    result = enqueueing.welcome_first(user)
    job = Job.objects.get(id=result.id)
    assert (job.queue_name, job.priority) == ("high_priority", 10)
    assert [r.return_value for r in perform_enqueued_jobs()] == ["ada@example.com"]


def test_a_delayed_job_stays_scheduled_until_its_time(user, mailoutbox):
    result = enqueueing.remind_in_an_hour(user)
    scheduled = ScheduledExecution.objects.get(job_id=result.id)
    in_an_hour = timezone.now() + timedelta(hours=1)
    assert abs((scheduled.scheduled_at - in_an_hour).total_seconds()) < 60
    assert perform_enqueued_jobs() == []
    assert [job.id for job in enqueued_jobs()] == [Job.objects.get().id]
    [done] = perform_enqueued_jobs(include_scheduled=True)  # as if the hour had passed
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert mailoutbox[0].subject == "Finish signing up"


def test_a_job_at_a_specific_time(settings):
    settings.TIME_ZONE = "America/New_York"
    result = enqueueing.digest_tomorrow_at_noon()
    tomorrow = timezone.localdate() + timedelta(days=1)
    noon = datetime.combine(tomorrow, time(12), tzinfo=ZoneInfo("America/New_York"))
    assert Job.objects.get(id=result.id).scheduled_at == noon
    assert result.task.run_after == noon


def test_a_job_in_two_days(user):
    result = enqueueing.export_in_two_days(user)
    wait = ScheduledExecution.objects.get(job_id=result.id).scheduled_at - timezone.now()
    assert timedelta(days=2) - timedelta(minutes=1) < wait <= timedelta(days=2)
    [done] = perform_enqueued_jobs(include_scheduled=True)
    assert done.return_value["username"] == "ada"


def test_enqueue_all_enqueues_many_jobs_in_a_few_queries(mailoutbox):
    User.objects.bulk_create(User(username=f"u{i}", email=f"u{i}@example.com") for i in range(50))
    connection = connections[queue_database()]
    with CaptureQueriesContext(connection) as one_by_one:
        enqueueing.welcome_everyone_one_by_one()
    with CaptureQueriesContext(connection) as bulk:
        results = enqueueing.welcome_everyone()
    assert len(results) == 50
    assert len(bulk) <= 10
    assert len(bulk) < len(one_by_one) / 5
    assert Job.objects.count() == 100
    assert len(perform_enqueued_jobs()) == 100
    assert len(mailoutbox) == 100


def test_pk_of_passes_the_ids_of_model_instances(user):
    other = User.objects.create_user("bob", "bob@example.com")
    results = enqueueing.welcome_many([user, other])
    assert [r.args for r in results] == [[user.pk], [other.pk]]


@pytest.fixture
def receivers():
    """Connect the example app's receivers (ExamplesConfig.ready) for one test."""
    from django.db.models.signals import post_save

    import docs.examples
    from django_solidq.signals import task_failed
    from docs.examples.apps import ExamplesConfig

    ExamplesConfig("docs.examples", docs.examples).ready()
    yield
    post_save.disconnect(sender=User, dispatch_uid="welcome_new_user")
    task_failed.disconnect(dispatch_uid="report_dead_job")


def test_a_new_active_user_is_welcomed_once_committed(
    receivers, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        User.objects.create_user("ada", "ada@example.com")
        User.objects.create_user("eve", "eve@example.com", is_active=False)
        assert not Job.objects.exists()  # not before the commit
    assert [r.return_value for r in perform_enqueued_jobs()] == ["ada@example.com"]
    User.objects.get(username="ada").save()  # an update: no second email
    assert perform_enqueued_jobs() == []
    assert len(mailoutbox) == 1


# Recurring -------------------------------------------------------------------------------------
def test_cleanup_deletes_expired_sessions_and_stale_accounts():
    from django.contrib.sessions.models import Session

    long_ago = timezone.now() - timedelta(days=91)
    Session.objects.create(session_key="old", session_data="", expire_date=long_ago)
    Session.objects.create(
        session_key="new", session_data="", expire_date=timezone.now() + timedelta(days=1)
    )
    User.objects.create_user("stale", is_active=False, date_joined=long_ago)
    User.objects.create_user("fresh", is_active=False)
    jobs.cleanup.enqueue()
    assert Job.objects.get().queue_name == "maintenance"
    [done] = perform_enqueued_jobs()
    assert done.return_value == {"sessions": 1, "accounts": 1}
    assert list(User.objects.values_list("username", flat=True)) == ["fresh"]


def test_the_recurring_snippet_passes_the_checks_and_plans_a_scheduler(settings):
    from django_solidq.recurring import check_recurring

    assert check_recurring(config.SOLIDQ_RECURRING) == []
    settings.SOLIDQ = {**config.SOLIDQ_RECURRING, "DATABASE": queue_database()}
    out = io.StringIO()
    call_command("runjobs", "--check", stdout=out)
    assert "scheduler (6 static recurring tasks" in out.getvalue()  # 5 + the built-in cleanup


def test_each_recurring_entry_enqueues_a_job_that_runs(settings, monkeypatch, mailoutbox):
    from django_solidq.models import RecurringTask
    from django_solidq.recurring import enqueue_tick, row_fields, static_entries

    settings.SOLIDQ = {**config.SOLIDQ_RECURRING, "DATABASE": queue_database()}
    monkeypatch.setattr(services.payment_gateway, "pending_order_ids", lambda: [7, 8])
    User.objects.create_user("ada", "ada@example.com")
    # What a scheduler does at boot, then at each task's next tick:
    definitions = {key: row_fields(options) for key, options in static_entries().items()}
    RecurringTask.objects.sync_static(definitions)
    now = timezone.now()
    for task in RecurringTask.objects.filter(key__in=config.SOLIDQ_RECURRING["RECURRING"]):
        assert enqueue_tick(task, task.parsed_schedule().next_time(now)) is not None
    results = {r.task.name: r for r in perform_enqueued_jobs()}
    assert {name: r.status for name, r in results.items()} == {
        "cleanup": TaskResultStatus.SUCCESSFUL,
        "send_digest": TaskResultStatus.SUCCESSFUL,
        "charge_pending_payments": TaskResultStatus.SUCCESSFUL,
        "process_payment": TaskResultStatus.SUCCESSFUL,
        "generate_report": TaskResultStatus.SUCCESSFUL,
        "run_command": TaskResultStatus.SUCCESSFUL,
    }
    assert results["generate_report"].return_value == {"report": "weekly", "users": 1}
    assert results["generate_report"].task.queue_name == "reports"
    assert results["send_digest"].return_value == 1
    assert [m.subject for m in mailoutbox] == ["Your daily digest"]


def test_the_reference_schedules_mean_these_cron_lines():
    from django_solidq.schedule import InvalidSchedule, parse_schedule
    from docs.examples.recurring import SCHEDULES

    assert {text: parse_schedule(text).cron for text in SCHEDULES} == SCHEDULES
    assert parse_schedule("every 1st of the month at 8am").cron == "0 8 1 * *"
    with pytest.raises(InvalidSchedule, match="several cron lines"):
        parse_schedule("every day at 9:15am and 3:30pm")


def test_a_recurring_task_added_at_run_time():
    from django_solidq.recurring import run_now
    from docs.examples.recurring import schedule_customer_report, unschedule_customer_report

    task = schedule_customer_report(42)
    assert (task.key, task.static, task.args) == ("report-for-42", False, ["customer-42"])
    run_now(task)  # the admin's "Run now"
    [done] = perform_enqueued_jobs()
    assert done.return_value == {"report": "customer-42", "users": 0}
    assert unschedule_customer_report(42) is True
    assert unschedule_customer_report(42) is False


# Testing (the guide shows these tests) ---------------------------------------------------------
def test_sends_the_welcome_email(user, mailoutbox):
    jobs.send_welcome_email.call(user.pk)  # perform_now: the function itself, in this process

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [user.email]
    assert re.search("welcome", mailoutbox[0].subject, re.I)


def test_enqueues_on_the_mailers_queue(user):
    jobs.send_welcome_email.enqueue(user.pk)

    [job] = enqueued_jobs("docs.examples.jobs.send_welcome_email")
    assert job.args == [user.pk]
    assert job.queue_name == "mailers"


def test_schedules_a_delayed_job(user):
    result = jobs.send_welcome_email.using(run_after=timedelta(hours=1)).enqueue(user.pk)

    [job] = enqueued_jobs()
    assert str(job.id) == result.id
    assert job.scheduled_at == result.task.run_after
    assert perform_enqueued_jobs() == []  # not due yet


def test_retries_on_payment_gateway_error(monkeypatch):
    def charge(order_id):
        raise PaymentGatewayError("gateway down")

    monkeypatch.setattr(services.payment_gateway, "charge", charge)
    result = jobs.process_payment.enqueue(42)

    [first] = perform_enqueued_jobs()
    assert first.status == TaskResultStatus.READY  # a retry is scheduled
    perform_enqueued_jobs(include_scheduled=True)  # run the retries now
    final = jobs.process_payment.get_result(result.id)
    assert final.status == TaskResultStatus.FAILED
    assert final.attempts == 5


def test_discards_on_invalid_card_error(monkeypatch):
    def charge(order_id):
        raise InvalidCardError("declined")

    monkeypatch.setattr(services.payment_gateway, "charge", charge)
    result = jobs.process_payment.enqueue(42)

    [final] = perform_enqueued_jobs(include_scheduled=True)
    assert final.status == TaskResultStatus.FAILED
    assert final.attempts == 1  # no retry
    assert Job.objects.get(id=result.id).discarded_at is not None
    assert not FailedExecution.objects.exists()  # discarded, not failed


@pytest.mark.urls("docs.examples.urls")
def test_registration_sends_the_welcome_email(
    client, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/users/", {"username": "john", "email": "user@example.com"})
    assert response.status_code == 201

    perform_enqueued_jobs()

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["user@example.com"]


# Monitoring ------------------------------------------------------------------------------------
@pytest.mark.urls("docs.examples.urls")
def test_mission_control_lists_a_failed_job_and_retries_it(admin_client, monkeypatch):
    from django.urls import reverse

    monkeypatch.setattr(services.payment_gateway, "charge", failing(PaymentGatewayError, 5))
    result = jobs.process_payment.enqueue(42)
    perform_enqueued_jobs(include_scheduled=True)
    jobs_page = reverse("admin:django_solidq_job_changelist")
    assert jobs_page == "/admin/django_solidq/job/"
    failed = admin_client.get(jobs_page, {"status": "failed"})
    assert [str(job.pk) for job in failed.context["cl"].result_list] == [result.id]

    retry = {"action": "retry_jobs", "_selected_action": [result.id]}
    assert b"Yes, retry" in admin_client.post(jobs_page, {**retry, "index": "0"}).content
    admin_client.post(jobs_page, {**retry, "post": "yes"})
    [done] = perform_enqueued_jobs()
    assert (done.status, done.return_value) == (TaskResultStatus.SUCCESSFUL, "ch_42")


@pytest.mark.urls("docs.examples.urls")
def test_mission_control_pauses_and_resumes_a_queue(admin_client, user):
    from django.urls import reverse

    admin_client.post(reverse("admin:django_solidq_job_queue_pause"), {"queue": "mailers"})
    enqueueing.welcome(user)
    assert perform_enqueued_jobs() == []  # workers skip a paused queue
    admin_client.post(reverse("admin:django_solidq_job_queue_resume"), {"queue": "mailers"})
    assert len(perform_enqueued_jobs()) == 1


def test_log_performance_logs_the_duration(user, caplog):
    caplog.set_level(logging.INFO, logger="docs.examples.jobs")
    jobs.sync_user.enqueue(user.pk)
    [done] = perform_enqueued_jobs()
    assert done.return_value == "ada"
    messages = [r.getMessage() for r in caplog.records if r.name == "docs.examples.jobs"]
    assert messages[0] == f"Processing user {user.pk}"
    assert re.fullmatch(r"sync_user completed in \d+\.\d{3}s", messages[1])


def test_the_middleware_tracks_errors_and_metrics(settings, user, monkeypatch):
    settings.SOLIDQ = {**settings.SOLIDQ, "MIDDLEWARE": config.SOLIDQ_WITH_MIDDLEWARE["MIDDLEWARE"]}
    monkeypatch.setattr(services.payment_gateway, "charge", failing(PaymentGatewayError, 1))
    jobs.process_payment.enqueue(42)
    jobs.sync_user.enqueue(user.pk)
    perform_enqueued_jobs(include_scheduled=True)

    [(error, context)] = services.error_tracker.notices
    assert isinstance(error, PaymentGatewayError)
    assert context == {"job": "process_payment", "arguments": [42]}
    assert services.metrics.counters == {
        ("jobs.failure", "job:process_payment", "error:PaymentGatewayError"): 1,
        ("jobs.success", "job:process_payment"): 1,
        ("jobs.success", "job:sync_user"): 1,
    }
    assert sorted(tags for _, _, tags in services.metrics.timings) == [
        ("job:process_payment",),
        ("job:sync_user",),
    ]


def test_task_failed_reports_a_job_that_failed_for_good(receivers, monkeypatch):
    monkeypatch.setattr(services.payment_gateway, "charge", failing(InvalidCardError, 1))
    jobs.process_payment.enqueue(1)
    perform_enqueued_jobs()  # discarded, which is not "failed"
    monkeypatch.setattr(services.payment_gateway, "charge", failing(PaymentGatewayError, 99))
    result = jobs.process_payment.enqueue(2)
    perform_enqueued_jobs(include_scheduled=True)
    [(error, context)] = services.error_tracker.notices
    assert isinstance(error, PaymentGatewayError)
    assert context == {"job": "process_payment", "job_id": result.id, "final": True}


# Best practices --------------------------------------------------------------------------------
def test_an_idempotent_job_can_run_twice(user):
    User.objects.filter(pk=user.pk).update(is_active=False)
    jobs.activate_user.enqueue(user.pk)
    jobs.activate_user.enqueue(user.pk)
    assert [r.return_value for r in perform_enqueued_jobs()] == [True, False]
    assert User.objects.get(pk=user.pk).is_active


def test_passing_a_model_instance_is_refused(user):
    with pytest.raises(ArgumentNotSerializable, match="pass IDs, not objects"):
        jobs.send_welcome_email.enqueue(user)


def test_a_large_job_fans_out_into_small_ones(mailoutbox):
    for name in ("a", "b", "c", "d", "e"):
        User.objects.create_user(name, f"{name}@example.com")
    User.objects.create_user("gone", "gone@example.com", is_active=False)
    parent = jobs.send_newsletters.enqueue(2)
    results = perform_enqueued_jobs()
    assert results[0].id == parent.id
    assert results[0].return_value == 5
    assert [r.task.name for r in results[1:]] == ["send_newsletter"] * 5
    assert sorted(m.to[0] for m in mailoutbox) == [f"{n}@example.com" for n in "abcde"]


def test_a_missing_user_is_discarded_and_logged(caplog):
    caplog.set_level(logging.ERROR, logger="docs.examples.jobs")
    result = jobs.send_newsletter.enqueue(999_999)
    perform_enqueued_jobs(include_scheduled=True)
    assert Job.objects.get(id=result.id).discarded_at is not None
    assert "User not found: 999999" in caplog.messages
    [(error, context)] = services.error_tracker.notices
    assert isinstance(error, User.DoesNotExist)
    assert context == {"user_id": 999_999}


def test_a_mail_server_error_is_retried(user, monkeypatch, mailoutbox):
    from django.core.mail import send_mail

    calls = []

    def flaky_send_mail(*args, **kwargs):
        calls.append(args)
        if len(calls) <= 2:
            raise SMTPException("try again")
        return send_mail(*args, **kwargs)

    monkeypatch.setattr(jobs, "send_mail", flaky_send_mail)
    result = jobs.send_newsletter.enqueue(user.pk)
    perform_enqueued_jobs(include_scheduled=True)
    final = status_of(result)
    assert (final.status, final.attempts) == (TaskResultStatus.SUCCESSFUL, 3)
    assert len(services.error_tracker.notices) == 2
    assert len(mailoutbox) == 1


def test_the_timeout_interrupts_the_job_and_it_is_retried(monkeypatch, caplog):
    from django_solidq.models import ReadyExecution
    from django_solidq.runtime.execution import Recorder, perform
    from django_solidq.runtime.timeouts import Watchdog

    assert (jobs.rebuild_search_index.timeout, jobs.rebuild_search_index.priority) == (300, -5)
    # perform_enqueued_jobs does not enforce timeouts: run the job as a worker thread would,
    # under a watchdog, with a timeout short enough for a test.
    short = dataclasses.replace(jobs.rebuild_search_index, timeout=0.2)
    monkeypatch.setattr(jobs, "rebuild_search_index", short)
    result = jobs.rebuild_search_index.enqueue(10_000)  # 100 s of work
    [job] = ReadyExecution.objects.claim(["*"], 1, process_id=None)
    watchdog = Watchdog(grace=5, on_hard_timeout=lambda job_ids: None, hard=False)
    outcome = perform(job, Recorder("guide-test"), watchdog)

    assert outcome is not None and outcome.status == TaskResultStatus.READY
    assert outcome.errors[0].exception_class_path == "django_solidq.exceptions.JobTimeout"
    assert "Search index rebuild timed out after 5 minutes" in caplog.messages
    wait = ScheduledExecution.objects.get(job_id=result.id).scheduled_at - timezone.now()
    assert 55 < wait.total_seconds() <= 69  # retried in a minute (plus jitter)
