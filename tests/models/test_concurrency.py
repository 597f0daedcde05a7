"""Concurrency controls, one transition at a time (the process tests run them for real)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.tasks import TaskResultStatus, default_task_backend
from django.utils import timezone

from django_solidq import limits_concurrency
from django_solidq.exceptions import ProcessExitError
from django_solidq.models import (
    BlockedExecution,
    ClaimedExecution,
    Job,
    ReadyExecution,
    ScheduledExecution,
    Semaphore,
)
from django_solidq.testing import perform_enqueued_jobs
from tests.app import tasks

pytestmark = pytest.mark.django_db


def where(result) -> str:
    job_id = result.id
    for name, model in [
        ("ready", ReadyExecution),
        ("blocked", BlockedExecution),
        ("claimed", ClaimedExecution),
        ("scheduled", ScheduledExecution),
    ]:
        if model.objects.filter(job_id=job_id).exists():
            return name
    return "ended"


def permits(key: str) -> int:
    return Semaphore.objects.get(key=key).value


def test_the_key_is_group_and_value_and_models_become_model_and_pk():
    from django.contrib.auth.models import User

    limit = limits_concurrency(key=lambda user, **_: user, group="billing")
    user = User.objects.create(username="ada")
    assert limit.key_for("x.y", [user], {}) == f"billing/User/{user.pk}"
    assert limits_concurrency(key="k").key_for("app.tasks.t", [], {}) == "app.tasks.t/k"
    result = tasks.per_user.enqueue(7)
    assert Job.objects.get(id=result.id).concurrency_key == "accounts/7"


def test_a_second_job_on_the_key_waits_blocked_until_the_first_ends(tmp_path):
    log = str(tmp_path / "log")
    first = tasks.in_sequence.enqueue(log, "A")
    second = tasks.in_sequence.enqueue(log, "B")
    assert (where(first), where(second)) == ("ready", "blocked")
    assert permits("tests.app.tasks.in_sequence/sequence") == 0
    perform_enqueued_jobs()
    assert default_task_backend.get_result(second.id).status == TaskResultStatus.SUCCESSFUL
    assert permits("tests.app.tasks.in_sequence/sequence") == 1


def test_a_failing_job_releases_its_permit_too(tmp_path):
    log = str(tmp_path / "log")
    failing = tasks.in_sequence.enqueue(log, "A", fail=True)
    waiting = tasks.in_sequence.enqueue(log, "B")
    perform_enqueued_jobs()
    assert default_task_backend.get_result(failing.id).status == TaskResultStatus.FAILED
    assert default_task_backend.get_result(waiting.id).status == TaskResultStatus.SUCCESSFUL


def test_a_retry_gives_the_permit_to_the_job_that_was_waiting():
    first = tasks.limited_flaky.enqueue(1)
    second = tasks.limited_flaky.enqueue(2)
    job = ReadyExecution.objects.claim(["*"], 1, None)[0]
    from django_solidq.runtime.execution import Recorder, perform

    perform(job, Recorder("w"))
    assert where(second) == "ready"
    assert where(first) == "blocked"


def test_on_conflict_discard_drops_the_enqueue_and_reports_it_discarded():
    kept = tasks.once_per_account.enqueue("acme")
    dropped = tasks.once_per_account.enqueue("acme")
    other = tasks.once_per_account.enqueue("globex")
    assert dropped.status == TaskResultStatus.FAILED
    assert dropped.errors[0].exception_class_path.endswith("ConcurrencyLimitReached")
    assert Job.objects.get(id=dropped.id).discarded_at is not None
    assert where(other) == "ready"
    perform_enqueued_jobs()
    assert default_task_backend.get_result(kept.id).return_value == "acme"
    again = tasks.once_per_account.enqueue("acme")
    assert where(again) == "ready"


def test_a_job_released_at_shutdown_keeps_its_permit(tmp_path):
    log = str(tmp_path / "log")
    first = tasks.in_sequence.enqueue(log, "A")
    second = tasks.in_sequence.enqueue(log, "B")
    ReadyExecution.objects.claim(["*"], 1, 99)
    ClaimedExecution.objects.filter(process_id=99).release_all()
    assert (where(first), where(second)) == ("ready", "blocked")
    assert permits("tests.app.tasks.in_sequence/sequence") == 0


def test_a_crashed_jobs_permit_is_released_when_its_claim_is_recovered(tmp_path):
    log = str(tmp_path / "log")
    first = tasks.in_sequence.enqueue(log, "A")
    second = tasks.in_sequence.enqueue(log, "B")
    ReadyExecution.objects.claim(["*"], 1, 99)
    ClaimedExecution.objects.filter(process_id=99).recover_lost(ProcessExitError, "killed")
    assert (where(first), where(second)) == ("blocked", "ready")


def test_scheduled_conflicting_jobs_block_when_dispatched(tmp_path):
    log = str(tmp_path / "log")
    later = [tasks.in_sequence.using(run_after=timedelta(hours=1)).enqueue(log, x) for x in "AB"]
    ScheduledExecution.objects.update(scheduled_at=timezone.now() - timedelta(seconds=1))
    ScheduledExecution.objects.dispatch_next_batch(10)
    assert sorted(where(r) for r in later) == ["blocked", "ready"]


def test_maintenance_unblocks_jobs_when_a_permit_expired_without_a_release(tmp_path):
    log = str(tmp_path / "log")
    tasks.in_sequence.enqueue(log, "A")
    waiting = tasks.in_sequence.enqueue(log, "B")
    ReadyExecution.objects.claim(["*"], 1, 99)  # A's worker will never release
    past = timezone.now() - timedelta(seconds=1)
    Semaphore.objects.update(expires_at=past)
    BlockedExecution.objects.update(expires_at=past)
    Semaphore.objects.expired().delete()
    assert BlockedExecution.objects.unblock_expired() == 1
    assert where(waiting) == "ready"


def test_bulk_enqueue_respects_limits(tmp_path):
    from django_solidq import enqueue_all

    log = str(tmp_path / "log")
    results = enqueue_all([tasks.three_at_a_time.bind(log, str(i)) for i in range(5)])
    assert sorted(where(r) for r in results) == ["blocked"] * 2 + ["ready"] * 3


class TestUniqueJobs:
    def test_a_duplicate_returns_the_live_job(self):
        first = tasks.build_report.enqueue("daily")
        again = tasks.build_report.enqueue("daily")
        other = tasks.build_report.enqueue("weekly")
        assert again.id == first.id
        assert other.id != first.id
        assert Job.objects.count() == 2

    def test_a_scheduled_job_counts_as_live(self):
        later = tasks.build_report.using(run_after=timedelta(hours=1)).enqueue("daily")
        assert tasks.build_report.enqueue("daily").id == later.id

    def test_once_the_job_ended_the_key_is_free_again(self):
        first = tasks.build_report.enqueue("daily")
        perform_enqueued_jobs()
        second = tasks.build_report.enqueue("daily")
        assert second.id != first.id
        assert where(second) == "ready"

    def test_a_failed_job_frees_its_key(self):
        from django_solidq.models import FailedExecution

        first = tasks.build_report.enqueue("daily")
        Job.objects.filter(id=first.id).update(task_path="tests.app.tasks.gone")
        perform_enqueued_jobs()
        assert FailedExecution.objects.filter(job_id=first.id).exists()
        assert tasks.build_report.enqueue("daily").id != first.id

    def test_drop_stores_the_duplicate_as_discarded(self):
        kept = tasks.build_report_once.enqueue("daily")
        dropped = tasks.build_report_once.enqueue("daily")
        assert dropped.id != kept.id
        assert dropped.status == TaskResultStatus.FAILED
        assert dropped.errors[0].exception_class_path == "django_solidq.exceptions.DuplicateJob"
        assert Job.objects.get(id=dropped.id).discarded_at is not None

    def test_bulk_enqueue_returns_duplicates_too(self):
        from django_solidq import enqueue_all

        results = enqueue_all([tasks.build_report.bind(r) for r in ["a", "b", "a"]])
        assert results[0].id == results[2].id
        assert Job.objects.count() == 2
