"""Recurring tasks without subprocesses: checks, the dynamic API, ticks, enqueue, run now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.tasks import TaskResultStatus, default_task_backend
from django.test import override_settings
from django.utils import timezone

import django_solidq
from django_solidq.checks import check_recurring_tasks, check_settings
from django_solidq.conf import get_config
from django_solidq.models import Job, ReadyExecution, RecurringExecution, RecurringTask
from django_solidq.recurring import (
    CLEAR_FINISHED_KEY,
    clear_finished_jobs,
    enqueue_tick,
    run_command,
    run_now,
    static_entries,
)
from django_solidq.runtime.scheduler import CATCH_UP, Scheduler, SchedulerConfig, Ticks
from tests.app import tasks

NOON = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)


def problems(recurring, **solidq) -> list[tuple[str, str]]:
    with override_settings(SOLIDQ={"RECURRING": recurring, **solidq}):
        return [(m.id, f"{m.msg} {m.hint}") for m in check_recurring_tasks()]


def ids(recurring, **solidq) -> list[str]:
    return [check_id for check_id, _ in problems(recurring, **solidq)]


# Checks ---------------------------------------------------------------------------------------
def test_valid_entries_pass():
    recurring = {
        "report": {
            "task": "tests.app.tasks.echo",
            "schedule": "every day at 2am",
            "args": ["weekly", 1],
            "kwargs": {"full": True},
            "queue": "reports",
            "priority": 10,
            "description": "The weekly report",
        },
        "sessions": {"command": "clearsessions --verbosity 0", "schedule": "0 3 * * *"},
    }
    assert problems(recurring) == []
    assert check_recurring_tasks() == []  # the test settings (with the built-in cleanup)


def test_a_bad_schedule_names_the_key_and_quotes_the_reason():
    found = problems({"nightly": {"task": "tests.app.tasks.noop", "schedule": "every blah"}})
    assert [check_id for check_id, _ in found] == ["django_solidq.E013"]
    text = found[0][1]
    assert "SOLIDQ['RECURRING']['nightly']['schedule'] is invalid" in text
    assert "Invalid schedule 'every blah': expected a cron line" in text
    assert ids({"x": {"task": "tests.app.tasks.noop"}}) == ["django_solidq.E013"]


def test_unknown_task_and_not_a_task():
    found = problems({"a": {"task": "tests.app.tasks.missing", "schedule": "@daily"}})
    assert [i for i, _ in found] == ["django_solidq.E014"]
    assert (
        "SOLIDQ['RECURRING']['a']['task'] 'tests.app.tasks.missing' cannot be imported"
        in (found[0][1])
    )
    found = problems({"b": {"task": "tests.app.tasks.Boom", "schedule": "@daily"}})
    assert [i for i, _ in found] == ["django_solidq.E014"]
    assert "is a type, not a Task" in found[0][1] and "@task" in found[0][1]


def test_unknown_command():
    found = problems({"c": {"command": "nosuchcommand --x", "schedule": "@daily"}})
    assert [i for i, _ in found] == ["django_solidq.E015"]
    assert "'nosuchcommand' is not a management command" in found[0][1]
    assert ids({"c": {"command": "check 'unclosed", "schedule": "@daily"}}) == [
        "django_solidq.E015"
    ]


def test_both_or_neither_of_task_and_command():
    both = {"task": "tests.app.tasks.noop", "command": "check", "schedule": "@daily"}
    assert ids({"d": both}) == ["django_solidq.E016"]
    found = problems({"d": {"schedule": "@daily"}})
    assert [i for i, _ in found] == ["django_solidq.E016"]
    assert "SOLIDQ['RECURRING']['d'] has neither of 'task' and 'command'" in found[0][1]


def test_unknown_keys_and_bad_shapes():
    found = problems({"e": {"class": "X", "task": "tests.app.tasks.noop", "schedule": "@daily"}})
    assert [i for i, _ in found] == ["django_solidq.E017"]
    assert "Unknown key 'class' in SOLIDQ['RECURRING']['e']" in found[0][1]
    assert "args, command, description, kwargs, priority, queue, schedule, task" in found[0][1]
    assert ids({"f": "every day"}) == ["django_solidq.E017"]


@pytest.mark.parametrize(
    ("entry", "check_id", "words"),
    [
        ({"args": "x"}, "django_solidq.E018", "['args'] must be a list"),
        ({"kwargs": [1]}, "django_solidq.E018", "['kwargs'] must be a dict"),
        ({"args": [{1, 2}]}, "django_solidq.E018", "Argument #0"),
        ({"priority": 500}, "django_solidq.E019", "priority"),
        ({"priority": "high"}, "django_solidq.E019", "['priority'] must be a whole number"),
        ({"queue": ""}, "django_solidq.E019", "['queue'] must be a queue name"),
    ],
)
def test_bad_arguments_and_options(entry, check_id, words):
    found = problems({"g": {"task": "tests.app.tasks.echo", "schedule": "@daily", **entry}})
    assert [i for i, _ in found] == [check_id]
    assert words in found[0][1] and "['g']" in found[0][1]


def test_args_do_not_apply_to_a_command():
    found = problems({"h": {"command": "check", "schedule": "@daily", "args": [1]}})
    assert [i for i, _ in found] == ["django_solidq.E018"]
    assert "'command' string" in found[0][1]


def test_clear_finished_jobs_setting_is_validated():
    with override_settings(SOLIDQ={"CLEAR_FINISHED_JOBS": "yes"}):
        assert [m.id for m in check_settings()] == ["django_solidq.E008"]


@pytest.mark.django_db
def test_manage_py_check_and_runjobs_refuse_a_bad_schedule():
    bad = {"RECURRING": {"nightly": {"task": "tests.app.tasks.noop", "schedule": "every blah"}}}
    with override_settings(SOLIDQ=bad):
        with pytest.raises(SystemCheckError, match=r"(?s)E013.*'nightly'.*every blah"):
            call_command("check")
        with pytest.raises(CommandError, match=r"(?s)E013.*'nightly'.*Invalid schedule"):
            call_command("runjobs", "--check")


# The built-in cleanup -------------------------------------------------------------------------
def test_the_cleanup_task_is_static_by_default_and_can_be_switched_off():
    assert static_entries()[CLEAR_FINISHED_KEY]["task"] == (
        "django_solidq.recurring.clear_finished_jobs"
    )
    assert static_entries()[CLEAR_FINISHED_KEY]["schedule"] == "every hour"
    with override_settings(SOLIDQ={"CLEAR_FINISHED_JOBS": False}):
        assert CLEAR_FINISHED_KEY not in static_entries()
        assert get_config().clear_finished_jobs is False
    with override_settings(SOLIDQ={"PRESERVE_FINISHED_JOBS": False}):
        assert CLEAR_FINISHED_KEY not in static_entries()
    own = {CLEAR_FINISHED_KEY: {"task": "tests.app.tasks.noop", "schedule": "@daily"}}
    with override_settings(SOLIDQ={"RECURRING": own}):
        assert static_entries()[CLEAR_FINISHED_KEY]["schedule"] == "@daily"


def test_runjobs_plans_a_scheduler_only_with_recurring_tasks(capsys):
    from django_solidq.management.commands.runjobs import plan

    assert [s.kind for s in plan(False, False)] == ["worker", "dispatcher", "scheduler"]
    assert [s.kind for s in plan(False, False, skip_recurring=True)] == ["worker", "dispatcher"]
    assert [s.kind for s in plan(True, False)] == ["worker"]
    assert [s.kind for s in plan(False, True)] == ["dispatcher", "scheduler"]
    call_command("runjobs", "--check")
    assert "scheduler (1 static recurring task, reloading every 1.0s)" in (capsys.readouterr().out)


@pytest.mark.django_db
def test_no_scheduler_without_recurring_tasks():
    from django_solidq.management.commands.runjobs import plan

    with override_settings(SOLIDQ={"CLEAR_FINISHED_JOBS": False}):
        assert [s.kind for s in plan(False, False)] == ["worker", "dispatcher"]
        django_solidq.schedule_recurring_task("dyn", task=tasks.noop, schedule="every minute")
        assert [s.kind for s in plan(False, False)] == ["worker", "dispatcher", "scheduler"]


@pytest.mark.django_db
def test_clear_finished_jobs_deletes_old_finished_jobs():
    old = tasks.noop.enqueue()
    recent = tasks.noop.enqueue()
    ReadyExecution.objects.all().delete()  # as if both had run
    Job.objects.filter(id=old.id).update(finished_at=timezone.now() - timedelta(days=2))
    Job.objects.filter(id=recent.id).update(finished_at=timezone.now())
    assert clear_finished_jobs.call() == 1
    assert [str(i) for i in Job.objects.values_list("id", flat=True)] == [recent.id]


# Ticks ----------------------------------------------------------------------------------------
def row(key: str = "t", schedule: str = "* * * * * *", **fields) -> RecurringTask:
    fields.setdefault("task_path", "tests.app.tasks.noop")
    return RecurringTask(key=key, schedule=schedule, **fields)


def test_a_task_deployed_at_noon_for_2am_first_ticks_at_the_next_2am():
    ticks = Ticks()
    ticks.load([row("nightly", "every day at 2am")], NOON)
    assert ticks.by_key["nightly"].next_at == datetime(2025, 6, 11, 2, 0, tzinfo=UTC)
    assert ticks.due(NOON) == []
    assert ticks.due(NOON + timedelta(hours=13)) == []
    assert [t.task.key for t in ticks.due(datetime(2025, 6, 11, 2, 0, tzinfo=UTC))] == ["nightly"]


def test_every_second_is_a_six_field_cron():
    from django_solidq.schedule import parse_schedule

    assert parse_schedule("every second") == parse_schedule("* * * * * *")


def test_next_tick_follows_the_last_one_not_the_clock():
    ticks = Ticks()
    ticks.load([row("s", "* * * * * *")], NOON)
    tick = ticks.by_key["s"]
    assert tick.next_at == NOON + timedelta(seconds=1)
    late = NOON + timedelta(seconds=3.7)
    ticks.advance(tick, late)  # handled late: the next one is still the following second
    assert tick.next_at == NOON + timedelta(seconds=2)


def test_ticks_missed_for_longer_than_the_catch_up_window_are_skipped():
    ticks = Ticks()
    ticks.load([row("s", "* * * * *")], NOON)  # every minute
    tick = ticks.by_key["s"]
    much_later = NOON + timedelta(hours=5, seconds=30)
    ticks.advance(tick, much_later)
    assert tick.next_at == NOON + timedelta(hours=5, minutes=1)
    assert CATCH_UP < timedelta(hours=5)


def test_reloading_keeps_ticks_and_reschedules_only_edited_tasks():
    ticks = Ticks()
    ticks.load([row("a", "every day at 2am"), row("b", "every day at 2am")], NOON)
    later = NOON + timedelta(days=3)
    ticks.load([row("a", "every day at 2am"), row("b", "every day at 3am"), row("c")], later)
    assert ticks.by_key["a"].next_at == datetime(2025, 6, 11, 2, tzinfo=UTC)  # kept
    assert ticks.by_key["b"].next_at == datetime(2025, 6, 14, 3, tzinfo=UTC)  # no past tick
    assert ticks.by_key["c"].next_at == later + timedelta(seconds=1)
    ticks.load([row("a", "every day at 2am")], later)
    assert list(ticks.by_key) == ["a"]
    ticks.load([row("bad", "every blah")], later)  # logged, not scheduled
    assert ticks.by_key == {}


# Enqueueing ticks -----------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_tick_enqueues_one_job_with_the_options_and_only_once():
    task = RecurringTask.objects.create(
        key="report",
        schedule="* * * * * *",
        task_path="tests.app.tasks.echo",
        args=[1, "two"],
        kwargs={"three": 3},
        queue_name="reports",
        priority=7,
    )
    job = enqueue_tick(task, NOON)
    assert job is not None
    stored = Job.objects.get(id=job.id)
    assert (stored.task_path, stored.args, stored.kwargs) == (
        "tests.app.tasks.echo",
        [1, "two"],
        {"three": 3},
    )
    assert (stored.queue_name, stored.priority) == ("reports", 7)
    assert ReadyExecution.objects.filter(job_id=job.id).exists()
    execution = RecurringExecution.objects.get()
    assert (execution.task_key, execution.run_at, execution.job_id) == ("report", NOON, job.id)
    assert enqueue_tick(task, NOON) is None  # another scheduler's turn: nothing
    assert Job.objects.count() == 1
    assert enqueue_tick(task, NOON + timedelta(seconds=1)) is not None
    assert Job.objects.count() == 2


@pytest.mark.django_db
def test_a_command_tick_runs_the_command_through_a_task(capsys, settings):
    settings.SOLIDQ = {"ADMIN_RECURRING_COMMANDS": ["check"]}  # a row not from settings
    task = RecurringTask.objects.create(
        key="cmd", schedule="@daily", command="check --fail-level ERROR"
    )
    job = enqueue_tick(task, NOON)
    assert job is not None
    assert (job.task_path, job.args) == (
        "django_solidq.recurring.builtin.run_command",
        ["check --fail-level ERROR"],
    )
    run_command.call("check --fail-level ERROR")
    assert "no issues" in capsys.readouterr().out


@pytest.mark.django_db
def test_run_now_enqueues_at_once_without_a_tick_row():
    task = RecurringTask.objects.create(
        key="report", schedule="every day at 2am", task_path="tests.app.tasks.add", args=[2, 3]
    )
    result = run_now(task)
    assert result.status == TaskResultStatus.READY
    assert default_task_backend.get_result(result.id).args == [2, 3]
    assert ReadyExecution.objects.filter(job_id=result.id).exists()
    assert not RecurringExecution.objects.exists()
    assert enqueue_tick(task, datetime(2025, 6, 11, 2, tzinfo=UTC)) is not None  # ticks go on


# Static sync and dynamic tasks ----------------------------------------------------------------
@pytest.mark.django_db
def test_static_sync_upserts_deletes_removed_and_leaves_dynamic_tasks():
    django_solidq.schedule_recurring_task("dynamic", task="tests.app.tasks.noop", schedule="@daily")
    first = {
        "a": {"task": "tests.app.tasks.noop", "schedule": "@daily"},
        "b": {"command": "check", "schedule": "@hourly", "queue": "ops"},
    }
    scheduler = Scheduler(SchedulerConfig())
    with override_settings(SOLIDQ={"RECURRING": first, "CLEAR_FINISHED_JOBS": False}):
        scheduler.sync_static()
    rows = {r.key: r for r in RecurringTask.objects.all()}
    assert sorted(rows) == ["a", "b", "dynamic"]
    assert (rows["b"].command, rows["b"].task_path, rows["b"].queue_name) == ("check", None, "ops")
    assert rows["a"].static and not rows["dynamic"].static
    stamp = rows["a"].updated_at

    second = {
        "a": {"task": "tests.app.tasks.noop", "schedule": "@daily"},
        "c": {"task": "tests.app.tasks.add", "schedule": "@weekly", "args": [1, 2]},
    }
    with override_settings(SOLIDQ={"RECURRING": second}):
        scheduler.sync_static()
    rows = {r.key: r for r in RecurringTask.objects.all()}
    assert sorted(rows) == ["a", "c", "dynamic", CLEAR_FINISHED_KEY]
    assert rows["a"].updated_at == stamp  # unchanged: not rewritten
    assert rows["c"].args == [1, 2]


@pytest.mark.django_db
def test_dynamic_tasks_are_validated_created_replaced_and_removed():
    task = django_solidq.schedule_recurring_task(
        "mine",
        task=tasks.echo,
        schedule="every 5 minutes",
        args=[1],
        kwargs={"a": 2},
        queue="q",
        priority=3,
        description="desc",
    )
    assert (task.static, task.task_path, task.args, task.kwargs) == (
        False,
        "tests.app.tasks.echo",
        [1],
        {"a": 2},
    )
    assert (task.queue_name, task.priority, task.description) == ("q", 3, "desc")
    with override_settings(SOLIDQ={"ADMIN_RECURRING_COMMANDS": ["check"]}):
        again = django_solidq.schedule_recurring_task("mine", command="check", schedule="@daily")
    assert again.pk == task.pk and again.command == "check" and again.task_path is None
    with pytest.raises(ValueError, match=r"Recurring task 'bad'\['schedule'\] is invalid"):
        django_solidq.schedule_recurring_task("bad", task=tasks.noop, schedule="every blah")
    with pytest.raises(ValueError, match="has neither of 'task' and 'command'"):
        django_solidq.schedule_recurring_task("bad", schedule="@daily")
    with pytest.raises(ValueError, match="Argument"):
        django_solidq.schedule_recurring_task(
            "bad", task=tasks.echo, schedule="@daily", args=[object()]
        )
    with pytest.raises(ValueError, match="static"):
        django_solidq.schedule_recurring_task(
            CLEAR_FINISHED_KEY, task=tasks.noop, schedule="@daily"
        )
    with pytest.raises(ValueError, match="static"):
        django_solidq.unschedule_recurring_task(CLEAR_FINISHED_KEY)
    assert not RecurringTask.objects.filter(key="bad").exists()
    assert django_solidq.unschedule_recurring_task("mine") is True
    assert django_solidq.unschedule_recurring_task("mine") is False


@pytest.mark.django_db(transaction=True)
def test_a_running_scheduler_enqueues_each_tick_once(settings):
    """In-process: the scheduler's loop, driven by hand with a fake clock."""
    scheduler = Scheduler(SchedulerConfig())
    django_solidq.schedule_recurring_task("s", task=tasks.noop, schedule="* * * * * *")
    scheduler.reload()
    first = scheduler.ticks.by_key["s"].next_at
    assert first > timezone.now() - timedelta(seconds=1)
    assert not RecurringExecution.objects.exists()  # nothing past was fired
