"""Retries and discards with Active Job's semantics."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.tasks import TaskResultStatus, default_task_backend

from django_solidq import discard_on, polynomially_longer, retry_on
from django_solidq.exceptions import JobTimeout, ProcessExitError, ProcessPrunedError
from django_solidq.models import FailedExecution, Job, ScheduledExecution
from django_solidq.retries import Outcome, decide, task_at
from django_solidq.testing import perform_enqueued_jobs
from tests.app import tasks

pytestmark = pytest.mark.django_db


def no_jitter() -> float:
    return 0.0


def full_jitter() -> float:
    return 1.0


class TestBackoff:
    def test_polynomially_longer_is_executions_to_the_fourth_plus_two(self):
        rule = retry_on(ValueError, wait=polynomially_longer, jitter=0)
        assert [rule.delay(n) for n in (1, 2, 3, 4, 5)] == [3, 18, 83, 258, 627]

    def test_the_seeds_spelling_is_the_same_formula(self):
        rule = retry_on(ValueError, wait="exponentially_longer", jitter=0)
        assert rule.delay(3) == 83

    def test_jitter_adds_at_most_its_fraction_of_the_delay(self):
        rule = retry_on(ValueError, wait=polynomially_longer)  # default jitter 15 %
        assert rule.delay(2, rand=no_jitter) == 18
        assert rule.delay(2, rand=full_jitter) == pytest.approx(16 * 1.15 + 2)
        for _ in range(200):
            assert 18 <= rule.delay(2) <= 16 * 1.15 + 2

    def test_fixed_waits_in_seconds_or_timedelta_take_jitter_too(self):
        assert retry_on(ValueError, wait=10, jitter=0).delay(4) == 10
        assert retry_on(ValueError, wait=timedelta(minutes=1), jitter=0).delay(1) == 60
        assert retry_on(ValueError, wait=10).delay(1, rand=full_jitter) == pytest.approx(11.5)

    def test_a_callable_wait_gets_the_executions_and_no_jitter(self):
        assert retry_on(ValueError, wait=lambda n: n * 7).delay(3, rand=full_jitter) == 21

    def test_bad_rules_are_refused(self):
        with pytest.raises(TypeError):
            retry_on("ValueError")
        with pytest.raises(ValueError):
            retry_on(ValueError, attempts=0)


@dataclass
class JobView:
    """What ``decide`` reads from a job."""

    queue_name: str = "default"
    priority: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    exception_executions: dict[str, int] = field(default_factory=dict)


def rules(*retry: Any, discard: tuple[Any, ...] = (), max_lost: int | None = None) -> Any:
    """A task as ``decide`` sees it: its rules and options."""
    return SimpleNamespace(retry_on=retry, discard_on=discard, max_lost_attempts=max_lost)


NOW = datetime(2026, 1, 1, tzinfo=UTC)


def after(job: JobView, outcome: Outcome) -> JobView:
    """The job as the outcome leaves it (what ``ClaimedExecution.fail`` writes)."""
    return replace(job, **outcome.changes)


class TestDecide:
    def test_each_rule_counts_its_own_executions(self):
        task = rules(retry_on(KeyError, attempts=2, jitter=0), retry_on(ValueError, attempts=3))
        job = JobView()
        actions = []
        for exc in (KeyError(), ValueError(), KeyError(), ValueError(), ValueError()):
            outcome = decide(job, task, exc, NOW)
            actions.append(outcome.action)
            job = after(job, outcome)
        assert actions == ["retry", "retry", "fail", "retry", "fail"]
        assert job.exception_executions == {"[builtins.KeyError]": 2, "[builtins.ValueError]": 3}

    def test_the_last_declared_matching_rule_wins(self):
        task = rules(retry_on(Exception, attempts=5), retry_on(ValueError, attempts=1))
        assert decide(JobView(), task, ValueError(), NOW).action == "fail"
        assert decide(JobView(), task, KeyError(), NOW).action == "retry"
        task.discard_on = (discard_on(ValueError),)
        assert decide(JobView(), task, ValueError(), NOW).action == "discard"

    def test_no_rule_means_fail(self):
        assert decide(JobView(), rules(), RuntimeError(), NOW).action == "fail"
        assert decide(JobView(), None, RuntimeError(), NOW).action == "fail"

    def test_the_decision_is_pure_and_says_what_to_write(self):
        job = JobView(exception_executions={"other": 1})
        rule = retry_on(ValueError, wait=10, jitter=0, queue="retries", priority=-5)
        outcome = decide(job, rules(rule), ValueError(), NOW)
        assert job == JobView(exception_executions={"other": 1})  # untouched
        assert (outcome.action, outcome.retry_at, outcome.delay) == (
            "retry",
            NOW + timedelta(seconds=10),
            10,
        )
        assert outcome.changes == {
            "exception_executions": {"other": 1, "[builtins.ValueError]": 1},
            "queue_name": "retries",
            "priority": -5,
        }
        assert outcome.reason == "retry_on ValueError, attempt 1 of 5"

    def test_a_discard_ends_the_job_now_and_keeps_its_callback(self):
        def on_discard(result: Any, exc: BaseException) -> None:
            pass

        task = rules(discard=(discard_on(KeyError, on_discard=on_discard),))
        outcome = decide(JobView(), task, KeyError(), NOW)
        assert outcome.action == "discard" and outcome.callback is on_discard
        assert outcome.changes == {"finished_at": NOW, "discarded_at": NOW}

    def test_lost_attempts_run_again_until_the_cap_unless_a_rule_decides(self):
        lost = {"exception_class_path": "django_solidq.exceptions.ProcessExitError"}
        task = rules(max_lost=3)
        first = decide(JobView(), task, ProcessExitError("gone"), NOW)
        assert (first.action, first.retry_at, first.changes) == ("retry", NOW, {})
        twice = JobView(errors=[lost, {"exception_class_path": "x.Other"}, lost])
        assert decide(twice, task, ProcessPrunedError("gone"), NOW).action == "fail"
        assert decide(JobView(errors=[lost]), task, ProcessExitError(), NOW).action == "retry"
        assert decide(twice, None, ProcessExitError(), NOW).action == "fail"  # the setting: 3
        ruled = rules(retry_on(ProcessExitError, attempts=10, wait=0))
        assert decide(twice, ruled, ProcessExitError(), NOW).action == "retry"
        assert decide(JobView(), rules(), JobTimeout(), NOW).action == "fail"  # not a loss

    def test_the_task_of_a_lost_attempt_is_found_by_its_path(self):
        assert task_at("tests.app.tasks.add") is tasks.add
        assert task_at("tests.app.tasks.vanished") is None
        assert task_at("tests.app.tasks.Boom") is None  # not a task


def run_all() -> None:
    perform_enqueued_jobs(include_scheduled=True)


def test_a_job_failing_every_time_runs_its_attempts_then_fails_with_one_id(tmp_path):
    counter = tmp_path / "n"
    result = tasks.always_flaky.enqueue(str(counter))
    run_all()
    final = default_task_backend.get_result(result.id)
    assert counter.read_text() == "3"
    assert final.status == TaskResultStatus.FAILED
    assert final.attempts == 3
    assert [e.exception_class_path for e in final.errors] == ["tests.app.tasks.Flaky"] * 3
    assert Job.objects.count() == 1

    FailedExecution.objects.filter(job_id=result.id).retry()
    run_all()
    again = default_task_backend.get_result(result.id)
    assert counter.read_text() == "6"  # the counters were reset: three more executions
    assert again.status == TaskResultStatus.FAILED
    assert again.attempts == 6


def test_retries_keep_the_job_id_and_get_result_follows_them(tmp_path):
    result = tasks.flaky_twice.enqueue(str(tmp_path / "n"))
    run_all()
    final = tasks.flaky_twice.get_result(result.id)
    assert final.status == TaskResultStatus.SUCCESSFUL
    assert final.return_value == "ok"
    assert final.attempts == 3
    assert len(final.errors) == 2
    assert Job.objects.count() == 1


def test_a_retry_waits_in_scheduled_until_its_time():
    from django.utils import timezone

    result = tasks.flaky_later.enqueue()
    perform_enqueued_jobs()
    scheduled = ScheduledExecution.objects.get(job_id=result.id)
    wait = (scheduled.scheduled_at - timezone.now()).total_seconds()
    assert 55 < wait <= 60
    waiting = default_task_backend.get_result(result.id)
    assert waiting.status == TaskResultStatus.READY
    # The result says when the next attempt runs; the job keeps when it was first due.
    assert waiting.task.run_after == scheduled.scheduled_at
    assert Job.objects.get(id=result.id).scheduled_at is None


def test_two_rules_keep_separate_counters(tmp_path):
    script = ["gateway", "deadlock", "deadlock", "gateway"]
    result = tasks.scripted.enqueue(str(tmp_path / "n"), script)
    run_all()
    final = default_task_backend.get_result(result.id)
    # gateway: 2 attempts allowed -> the 2nd gateway failure (run 4) is final
    assert final.status == TaskResultStatus.FAILED
    assert final.attempts == 4
    assert Job.objects.get(id=result.id).exception_executions == {
        "[tests.app.tasks.Gateway]": 2,
        "[tests.app.tasks.Deadlock]": 2,
    }


def test_discard_on_ends_the_job_without_a_failed_execution(tmp_path):
    result = tasks.scripted.enqueue(str(tmp_path / "n"), ["deadlock", "fatal"])
    run_all()
    job = Job.objects.get(id=result.id)
    assert job.discarded_at is not None
    assert not FailedExecution.objects.exists()
    final = default_task_backend.get_result(result.id)
    assert final.status == TaskResultStatus.FAILED
    assert final.errors[-1].exception_class_path == "tests.app.tasks.Fatal"


def test_unlimited_attempts_keep_retrying(tmp_path):
    result = tasks.flaky_many.enqueue(str(tmp_path / "n"), 7)
    run_all()
    final = default_task_backend.get_result(result.id)
    assert final.status == TaskResultStatus.SUCCESSFUL
    assert final.return_value == 8


def test_on_exhausted_handles_the_last_failure_instead_of_failing(tmp_path):
    tasks.EXHAUSTED.clear()
    result = tasks.flaky_with_callback.enqueue(str(tmp_path / "n"))
    run_all()
    assert tasks.EXHAUSTED == [f"{result.id}:Flaky"]
    assert not FailedExecution.objects.exists()
    assert Job.objects.get(id=result.id).discarded_at is not None


def test_a_rule_can_move_the_retry_to_another_queue_and_priority(tmp_path):
    result = tasks.flaky_moves.enqueue(str(tmp_path / "n"))
    perform_enqueued_jobs(queues=["default"])
    job = Job.objects.get(id=result.id)
    assert (job.queue_name, job.priority) == ("retries", -10)
    perform_enqueued_jobs(queues=["retries"])
    assert default_task_backend.get_result(result.id).return_value == "moved"


def test_retry_signals_are_sent(tmp_path):
    from django_solidq import signals

    seen: list[str] = []

    def on(name):
        return lambda sender, task_result, exception, **kw: seen.append(name)

    receivers = [on("retried"), on("failed")]
    signals.task_retried.connect(receivers[0])
    signals.task_failed.connect(receivers[1])
    try:
        tasks.always_flaky.enqueue(str(tmp_path / "n"))
        run_all()
    finally:
        signals.task_retried.disconnect(receivers[0])
        signals.task_failed.disconnect(receivers[1])
    assert seen == ["retried", "retried", "failed"]
