"""The scheduler: ticks computed from a given time (a fake clock), and enqueued once each by
any number of schedulers, in this process."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

import django_solidq
from django_solidq.models import Job, RecurringExecution, RecurringTask
from django_solidq.runtime.scheduler import Scheduler, SchedulerConfig, Ticks
from tests.harness import wait_for
from tests.runtime.conftest import running

NOON = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)


def row(key: str, schedule: str) -> RecurringTask:
    return RecurringTask(key=key, schedule=schedule, task_path="tests.app.tasks.noop")


class TestTicks:
    def test_a_task_first_fires_at_its_first_tick_after_loading(self):
        ticks = Ticks()
        ticks.load([row("hourly", "every hour")], NOON)
        assert ticks.next_at() == datetime(2026, 3, 1, 13, tzinfo=UTC)
        assert ticks.due(NOON + timedelta(minutes=20)) == []
        [due] = ticks.due(datetime(2026, 3, 1, 13, tzinfo=UTC))
        Ticks.advance(due, datetime(2026, 3, 1, 13, 0, 1, tzinfo=UTC))
        assert ticks.next_at() == datetime(2026, 3, 1, 14, tzinfo=UTC)

    def test_ticks_follow_each_other_not_the_clock_but_a_long_delay_skips_ahead(self, caplog):
        ticks = Ticks()
        ticks.load([row("minutely", "* * * * *")], NOON)
        tick = ticks.by_key["minutely"]
        Ticks.advance(tick, tick.next_at + timedelta(seconds=50))  # late, within catch-up
        assert tick.next_at == datetime(2026, 3, 1, 12, 2, tzinfo=UTC)
        caplog.set_level(logging.WARNING, logger="django_solidq.scheduler")
        Ticks.advance(tick, datetime(2026, 3, 1, 15, 0, 30, tzinfo=UTC))  # hours behind
        assert tick.next_at == datetime(2026, 3, 1, 15, 1, tzinfo=UTC)
        assert "skipping the ticks missed" in caplog.text

    def test_reloading_keeps_a_task_s_tick_unless_its_schedule_changed(self):
        ticks = Ticks()
        ticks.load([row("a", "every hour"), row("b", "every hour")], NOON)
        later = NOON + timedelta(minutes=45)
        ticks.load([row("a", "every hour"), row("b", "every day at noon")], later)
        assert ticks.by_key["a"].next_at == datetime(2026, 3, 1, 13, tzinfo=UTC)
        assert ticks.by_key["b"].next_at == datetime(2026, 3, 2, 12, tzinfo=UTC)
        ticks.load([row("a", "every hour")], later)
        assert set(ticks.by_key) == {"a"}

    def test_an_invalid_schedule_is_reported_once_and_skipped(self, caplog):
        caplog.set_level(logging.ERROR, logger="django_solidq.scheduler")
        ticks = Ticks()
        for _ in range(3):
            ticks.load([row("bad", "every blah")], NOON)
        assert ticks.by_key == {}
        assert caplog.text.count("'bad' is not scheduled") == 1


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_enqueue_a_tick_once():
    django_solidq.schedule_recurring_task("dyn", task="tests.app.tasks.noop", schedule="every hour")
    first, second = Scheduler(SchedulerConfig()), Scheduler(SchedulerConfig())
    for scheduler in (first, second):
        scheduler._synced = True  # no static tasks to write
        scheduler.reload()
        tick = scheduler.ticks.by_key["dyn"]
        tick.next_at -= timedelta(hours=1)  # the tick that just passed
    due_at = first.ticks.by_key["dyn"].next_at
    assert first.enqueue_due() and second.enqueue_due()
    [execution] = RecurringExecution.objects.filter(task_key="dyn")
    assert execution.run_at == due_at
    assert Job.objects.filter(task_path="tests.app.tasks.noop").count() == 1
    assert first.ticks.by_key["dyn"].next_at == due_at + timedelta(hours=1)


@pytest.mark.django_db(transaction=True)
def test_dynamic_tasks_appear_and_disappear_in_a_running_scheduler():
    scheduler = Scheduler(SchedulerConfig(polling_interval=0.05))
    with running(scheduler):
        django_solidq.schedule_recurring_task(
            "dyn", task="tests.app.tasks.noop", schedule="every second"
        )
        wait_for(
            lambda: RecurringExecution.objects.filter(task_key="dyn").count() >= 2,
            what="the dynamic task's ticks",
        )
        assert django_solidq.unschedule_recurring_task("dyn")
        # Reload and enqueue take turns in the scheduler's thread: once a reload dropped
        # the task, no tick of it can follow.
        wait_for(lambda: "dyn" not in scheduler.ticks.by_key, what="a reload without it")
        count = RecurringExecution.objects.filter(task_key="dyn").count()
    assert RecurringExecution.objects.filter(task_key="dyn").count() == count
