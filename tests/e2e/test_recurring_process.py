"""Recurring tasks end to end: real ``runjobs`` subprocesses running schedulers (in this
process, on a fake clock: tests/runtime/test_scheduler.py)."""

from __future__ import annotations

import itertools
import signal
from datetime import timedelta

import pytest

import django_solidq
from django_solidq.models import Job, Process, RecurringExecution, RecurringTask
from django_solidq.recurring import CLEAR_FINISHED_KEY
from tests.harness import RunJobs, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.process]

EVERY_SECOND = {"task": "tests.app.tasks.noop", "schedule": "* * * * * *"}
HOURLY = {"task": "tests.app.tasks.noop", "schedule": "every hour"}


def schedulers() -> int:
    return Process.objects.filter(kind="scheduler").count()


def stop(*processes: RunJobs) -> None:
    for process in processes:
        process.send(signal.SIGTERM)
    for process in processes:
        assert process.wait(15) == 0, process.log()


def test_two_schedulers_enqueue_every_tick_exactly_once(runjobs):
    config = {"RECURRING": {"tick": EVERY_SECOND}, "CLEAR_FINISHED_JOBS": False}
    first = runjobs("--only-dispatchers", config=config)
    second = runjobs("--only-dispatchers", config=config)
    wait_for(lambda: schedulers() == 2, timeout=30, what="two schedulers")
    wait_for(
        lambda: RecurringExecution.objects.filter(task_key="tick").count() >= 5,
        timeout=30,
        what="five ticks with both schedulers running",
    )
    stop(first, second)

    executions = list(RecurringExecution.objects.filter(task_key="tick").order_by("run_at"))
    run_ats = [e.run_at for e in executions]
    assert len(run_ats) >= 4
    assert all(b - a == timedelta(seconds=1) for a, b in itertools.pairwise(run_ats))
    jobs = Job.objects.filter(task_path="tests.app.tasks.noop")
    assert jobs.count() == len(executions)
    assert {e.job_id for e in executions} == set(jobs.values_list("id", flat=True))
    assert "Traceback" not in first.log() + second.log()


def test_static_tasks_are_synced_at_boot_and_removed_ones_deleted(runjobs):
    django_solidq.schedule_recurring_task("dynamic", task="tests.app.tasks.noop", schedule="@daily")
    before = {"RECURRING": {"a": HOURLY, "b": {**HOURLY, "args": []}}}
    process = runjobs("--only-dispatchers", config=before)
    wait_for(
        lambda: (
            set(RecurringTask.objects.values_list("key", flat=True))
            == {"a", "b", "dynamic", CLEAR_FINISHED_KEY}
        ),
        timeout=30,
        what="the static tasks",
    )
    stop(process)

    after = {
        "RECURRING": {"a": {**HOURLY, "schedule": "every day at 2am"}, "c": HOURLY},
        "CLEAR_FINISHED_JOBS": False,
    }
    process = runjobs("--only-dispatchers", config=after)
    wait_for(
        lambda: set(RecurringTask.objects.values_list("key", flat=True)) == {"a", "c", "dynamic"},
        timeout=30,
        what="the re-synced static tasks",
    )
    assert RecurringTask.objects.get(key="a").schedule == "every day at 2am"
    assert not RecurringTask.objects.get(key="dynamic").static
    stop(process)


def test_thread_mode_runs_the_scheduler_too(runjobs):
    config = {"RECURRING": {"tick": EVERY_SECOND}, "CLEAR_FINISHED_JOBS": False}
    process = runjobs("--mode", "thread", config=config)
    wait_for(
        lambda: RecurringExecution.objects.filter(task_key="tick").exclude(job=None).count() >= 2,
        timeout=30,
        what="two ticks",
    )
    wait_for(
        lambda: Job.objects.filter(task_path="tests.app.tasks.noop", finished_at__isnull=False),
        timeout=15,
        what="a worker to run a tick's job",
    )
    stop(process)
    assert not Process.objects.exists()


def test_runjobs_refuses_a_bad_schedule_naming_the_key_and_the_reason(runjobs):
    config = {"RECURRING": {"nightly": {"task": "tests.app.tasks.noop", "schedule": "every blah"}}}
    process = runjobs(config=config)
    assert process.wait(60) != 0
    log = process.log()
    assert "django_solidq.E013" in log and "'nightly'" in log
    assert "Invalid schedule 'every blah'" in log
    assert not Process.objects.exists()
