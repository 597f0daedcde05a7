"""django_solidq.testing: the assertions, perform_enqueued_jobs, perform_now, ImmediateBackend,
and docs/testing.md, whose every Python block is an excerpt of docs/examples/testing/ (the
example tests, imported below, run here)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from unittest.mock import Mock

import pytest
from django.contrib.auth.models import User
from django.tasks import TaskResultStatus
from django.test import override_settings

from django_solidq.models import Job, ScheduledExecution
from django_solidq.testing import (
    assert_enqueued,
    assert_no_enqueued,
    assert_performed,
    captured_jobs,
    enqueued_jobs,
    perform_enqueued_jobs,
    perform_now,
)
from docs.examples import jobs, services
from docs.examples.services import InvalidCardError, PaymentGatewayError
from docs.examples.testing.test_process_payment import *  # noqa: F403
from docs.examples.testing.test_registration import *  # noqa: F403
from docs.examples.testing.test_registration_testcase import *  # noqa: F403
from docs.examples.testing.test_welcome_email import *  # noqa: F403
from tests.app import tasks as app_tasks

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "testing.md"
EXAMPLES = sorted((ROOT / "docs" / "examples" / "testing").glob("*.py"))
LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.MAILERS = LOCMEM  # Django 6.1's mail setting: mail goes to mail.outbox


# The page and its examples ---------------------------------------------------------------------
def code_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", text, re.M | re.S)


SNIPPET_MARKER = re.compile(r"^# --8<-- \[(start|end):\w+\]\n", re.M)


def rendered(text: str) -> str:
    """The page as the site shows it: its ``--8<-- "path[:section]"`` includes expanded."""

    def include(match: re.Match[str]) -> str:
        source = (ROOT / match[1]).read_text()
        if match[2]:
            section = re.search(
                rf"^# --8<-- \[start:{match[2]}\]\n(.*?)^# --8<-- \[end:{match[2]}\]$",
                source,
                re.M | re.S,
            )
            assert section, match.group(0)
            source = section[1]
        return SNIPPET_MARKER.sub("", source).strip("\n")

    text = re.sub(r'^--8<-- "([^":]+)(?::(\w+))?"$', include, text, flags=re.M)
    return text.replace("```{.python}", "```python")


def appears_in(block: str, source: str) -> bool:
    """The block's pieces (split at ``# ...`` lines) are in ``source``, in this order."""
    position = 0
    for piece in re.split(r"^# \.\.\.\n", block, flags=re.M):
        position = source.find(piece.strip("\n"), position)
        if position < 0:
            return False
    return True


@pytest.mark.django_db(databases=[])
def test_every_python_block_of_the_testing_page_is_an_example_that_runs():
    sources = [SNIPPET_MARKER.sub("", path.read_text()) for path in EXAMPLES]
    sources.append(Path(__file__).read_text())
    blocks = code_blocks(rendered(PAGE.read_text()))
    assert len(blocks) >= 5
    orphans = [b for b in blocks if not any(appears_in(b, s) for s in sources)]
    assert orphans == [], "docs/testing.md blocks not found verbatim in docs/examples/testing"


@pytest.mark.django_db(databases=[])
def test_every_example_of_the_seed_job_testing_section_has_a_twin():
    seed_names = [
        "sends_welcome_email", "sends_email_to_correct_user", "enqueues_job",
        "enqueues_on_correct_queue", "schedules_delayed_job", "retries_on_payment_gateway_error",
        "discards_on_invalid_card_error", "sends_welcome_email_after_registration",
    ]  # fmt: skip
    page = rendered(PAGE.read_text())
    assert [name for name in seed_names if f"def test_{name}(" not in page] == []


# Assertions -------------------------------------------------------------------------------------
pytestmark = pytest.mark.django_db


def test_a_failed_assertion_lists_what_was_enqueued():
    jobs.send_urgent_notification.enqueue(7)
    jobs.send_welcome_email.using(run_after=timedelta(hours=1)).enqueue(8)

    with pytest.raises(AssertionError) as failure:
        assert_enqueued(jobs.send_welcome_email, args=[9])

    message = str(failure.value)
    assert "Expected at least 1 enqueued job(s) of docs.examples.jobs.send_welcome_email" in message
    assert "with args=[9]; found 0." in message
    assert "Enqueued jobs (2):" in message
    assert (
        "  - docs.examples.jobs.send_urgent_notification(7) queue='notifications', priority=10\n"
        in message
    )
    assert "docs.examples.jobs.send_welcome_email(8) queue='mailers', priority=0, run_after=" in (
        message
    )


def test_assert_enqueued_counts_and_matches_every_option():
    jobs.send_urgent_notification.enqueue(1)
    jobs.send_urgent_notification.enqueue(1)
    jobs.notify_user.enqueue(user_id=3, message="hi")

    assert len(assert_enqueued(jobs.send_urgent_notification, args=(1,), count=2)) == 2
    assert_enqueued(
        "docs.examples.jobs.send_urgent_notification", queue="notifications", priority=10
    )
    assert_enqueued(jobs.notify_user, kwargs={"user_id": 3, "message": "hi"}, queue="default")
    assert_no_enqueued(jobs.send_urgent_notification, priority=0)
    with pytest.raises(AssertionError, match="Expected exactly 1 enqueued"):
        assert_enqueued(jobs.send_urgent_notification, count=1)
    with pytest.raises(AssertionError, match="Expected exactly 0"):
        assert_no_enqueued()
    with pytest.raises(TypeError, match="queue_name"):
        assert_enqueued(jobs.notify_user, queue_name="default")


def test_run_after_matches_a_datetime_or_a_timedelta_from_now():
    result = jobs.send_reminder.using(run_after=timedelta(days=2)).enqueue(1)

    assert_enqueued(jobs.send_reminder, run_after=result.task.run_after)
    assert_enqueued(jobs.send_reminder, run_after=timedelta(days=2))
    assert_no_enqueued(jobs.send_reminder, run_after=timedelta(hours=1))
    assert_no_enqueued(jobs.send_reminder, run_after=None)


def test_captured_jobs_holds_only_what_the_block_enqueued():
    jobs.send_reminder.enqueue(1)
    with captured_jobs() as captured:
        jobs.send_reminder.enqueue(2)
        jobs.send_urgent_notification.enqueue(3)

    assert [(job.task_path.rsplit(".")[-1], job.args) for job in captured] == [
        ("send_reminder", [2]),
        ("send_urgent_notification", [3]),
    ]
    assert_enqueued(jobs.send_reminder, args=[2], count=1, jobs=captured)
    assert_no_enqueued(jobs.send_reminder, args=[1], jobs=captured)


def test_assert_performed_sees_jobs_that_ran_and_their_results():
    user = User.objects.create_user("bob", "bob@example.com")
    jobs.send_welcome_email.enqueue(user.pk)
    jobs.send_reminder.enqueue(user.pk)
    assert_no_enqueued(jobs.export_user_data)

    results = perform_enqueued_jobs(only=jobs.send_welcome_email)

    assert_performed(jobs.send_welcome_email, args=[user.pk], count=1)
    assert_performed(jobs.send_welcome_email, jobs=results)
    with pytest.raises(AssertionError, match="Performed jobs \\(1\\):"):
        assert_performed(jobs.send_reminder)


# perform_enqueued_jobs ---------------------------------------------------------------------------
def test_only_and_exclude_leave_the_other_jobs_waiting_untouched():
    user = User.objects.create_user("cy", "cy@example.com")
    welcome = jobs.send_welcome_email.enqueue(user.pk)
    reminder = jobs.send_reminder.enqueue(user.pk)
    export = jobs.export_user_data.enqueue(user.pk)

    assert [
        r.id for r in perform_enqueued_jobs(exclude=[jobs.send_welcome_email, jobs.send_reminder])
    ] == [export.id]
    assert [
        r.id for r in perform_enqueued_jobs(only=lambda job: job.task_path.endswith("reminder"))
    ] == [reminder.id]
    [waiting] = enqueued_jobs()
    assert str(waiting.id) == welcome.id
    assert waiting.worker_ids == []  # claimed and given back untouched, no attempt counted


def test_at_runs_only_what_is_due_by_then():
    soon = jobs.send_reminder.using(run_after=timedelta(hours=1)).enqueue(1)
    later = jobs.send_reminder.using(run_after=timedelta(days=2)).enqueue(2)
    User.objects.create_user("u1", "u1@example.com", pk=1)

    assert perform_enqueued_jobs() == []
    assert [r.id for r in perform_enqueued_jobs(at=timedelta(hours=2))] == [soon.id]
    assert str(ScheduledExecution.objects.get().job_id) == later.id


def test_include_scheduled_still_runs_every_scheduled_job():
    for user_id in (1, 2):
        User.objects.create_user(f"u{user_id}", f"u{user_id}@example.com", pk=user_id)
    jobs.send_reminder.using(run_after=timedelta(hours=1)).enqueue(1)
    jobs.send_reminder.using(run_after=timedelta(days=2)).enqueue(2)

    results = perform_enqueued_jobs(include_scheduled=True)

    assert [r.status for r in results] == [TaskResultStatus.SUCCESSFUL] * 2


def test_follow_false_leaves_the_jobs_that_jobs_enqueue():
    User.objects.create_user("dee", "dee@example.com")
    jobs.send_newsletters.enqueue()

    [fan_out] = perform_enqueued_jobs(follow=False)
    assert fan_out.return_value == 1
    assert_enqueued(jobs.send_newsletter, count=1)
    assert [r.task.name for r in perform_enqueued_jobs()] == ["send_newsletter"]


def test_the_block_form_performs_what_the_block_enqueued_and_what_that_enqueues(mailoutbox):
    User.objects.create_user("eve", "eve@example.com")
    jobs.send_reminder.using(run_after=timedelta(days=1)).enqueue(1)

    with perform_enqueued_jobs() as performed:
        jobs.send_newsletters.enqueue()
        assert performed == []  # nothing runs inside the block

    assert [r.task.name for r in performed] == ["send_newsletters", "send_newsletter"]
    assert_enqueued(jobs.send_reminder)  # enqueued before the block, not due: left alone


def test_the_block_form_runs_nothing_when_the_block_raises():
    with pytest.raises(ZeroDivisionError), perform_enqueued_jobs():
        jobs.send_reminder.enqueue(1)
        raise ZeroDivisionError
    assert_enqueued(jobs.send_reminder, count=1)


# perform_now ---------------------------------------------------------------------------------
def test_perform_now_runs_hooks_and_middleware_like_a_worker(caplog, settings):
    caplog.set_level("INFO", logger="docs.examples.jobs")

    result = perform_now(jobs.generate_report, "sales")

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == {"report": "sales", "users": 0}
    assert "Starting report generation for sales" in caplog.text
    assert "Report generation took" in caplog.text
    assert Job.objects.get(id=result.id).worker_ids == ["test-worker"]


def test_perform_now_raises_when_the_job_fails_for_good(monkeypatch):
    monkeypatch.setattr(services.payment_gateway, "charge", lambda order_id: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        perform_now(jobs.process_payment, 42)
    assert Job.objects.get().failedexecution is not None


def test_perform_now_ignores_run_after_and_leaves_other_jobs_alone():
    other = jobs.send_reminder.enqueue(1)

    result = perform_now(jobs.send_urgent_notification.using(run_after=timedelta(days=1)), 5)

    assert result.status == TaskResultStatus.SUCCESSFUL
    [waiting] = enqueued_jobs()
    assert str(waiting.id) == other.id


# ImmediateBackend ----------------------------------------------------------------------------
IMMEDIATE = {"default": {"BACKEND": "django_solidq.testing.ImmediateBackend", "QUEUES": []}}


@override_settings(TASKS=IMMEDIATE)
def test_the_immediate_backend_takes_every_task_option_and_applies_the_rules(monkeypatch):
    monkeypatch.setattr(services.payment_gateway, "charge", Mock(side_effect=InvalidCardError))

    discarded = jobs.process_payment.enqueue(1)  # retry_on, discard_on, queue_name
    routed = jobs.notify_user.enqueue(99, "hello")  # queue_as
    reported = jobs.generate_report.enqueue("q3")  # before, after, around

    assert discarded.status == TaskResultStatus.FAILED
    assert Job.objects.get(id=discarded.id).discarded_at is not None
    assert routed.status == TaskResultStatus.SUCCESSFUL
    assert routed.task.queue_name == "default"
    assert reported.return_value == {"report": "q3", "users": 0}


@override_settings(TASKS=IMMEDIATE)
def test_the_immediate_backend_leaves_retries_and_later_jobs_scheduled(monkeypatch):
    monkeypatch.setattr(services.payment_gateway, "charge", Mock(side_effect=PaymentGatewayError))

    failed = jobs.process_payment.enqueue(1)
    later = jobs.send_reminder.using(run_after=timedelta(hours=1)).enqueue(1)

    assert failed.status == TaskResultStatus.READY  # its retry waits
    assert later.status == TaskResultStatus.READY
    assert_enqueued(jobs.process_payment, args=[1])
    assert_enqueued(jobs.send_reminder, run_after=timedelta(hours=1))


@override_settings(TASKS=IMMEDIATE)
def test_the_immediate_backend_runs_jobs_enqueued_by_jobs_and_on_commit(
    django_capture_on_commit_callbacks, mailoutbox
):
    User.objects.create_user("fay", "fay@example.com")

    fan_out = jobs.send_newsletters.enqueue()
    with django_capture_on_commit_callbacks(execute=True):
        jobs.send_urgent_notification.enqueue_on_commit(1)

    assert fan_out.status == TaskResultStatus.SUCCESSFUL
    assert len(mailoutbox) == 1
    assert_performed(jobs.send_newsletter, count=1)
    assert_performed(jobs.send_urgent_notification, count=1)
    assert_no_enqueued()


@override_settings(TASKS=IMMEDIATE)
def test_the_immediate_backend_takes_concurrency_unique_and_timeout(tmp_path):
    log = str(tmp_path / "log")
    limited = app_tasks.in_sequence.enqueue(log, "one")  # limits_concurrency: permit and back
    again = app_tasks.in_sequence.enqueue(log, "two")
    first = app_tasks.build_report.enqueue("q1")  # unique: the key is freed when it ends
    second = app_tasks.build_report.enqueue("q1")
    timed = app_tasks.slow_in_python.enqueue(str(tmp_path / "counter"), 0.01)  # timeout option

    statuses = [r.status for r in (limited, again, first, second, timed)]
    assert statuses == [TaskResultStatus.SUCCESSFUL] * 5
    assert first.id != second.id
    assert_no_enqueued()
