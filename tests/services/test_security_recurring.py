"""No code from the admin: the command runner is refused by what it is, not by how it is named,
a form imports no module that does not define tasks, and a recurring row written to the table
by hand runs no command line the settings do not allow."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import reverse

import django_solidq
from django_solidq.exceptions import CommandNotAllowed
from django_solidq.models import Job, RecurringTask
from django_solidq.recurring import (
    enqueue_tick,
    is_command_runner,
    resolve_known_task,
    run_command,
    run_now,
)
from tests.admin.test_admin_support import client_with

pytestmark = pytest.mark.django_db

ADD = reverse("admin:django_solidq_recurringtask_add")
SHELL = "shell -c \"open('/tmp/solidq-pwned', 'w').write('1')\""
# This module imports the runner, so it is reachable as
# tests.services.test_security_recurring.run_command;
# a copy made with using() is another Task object with the same function.
runner_copy = run_command.using(queue_name="elsewhere")
NO_COMMANDS = {"ADMIN_RECURRING_COMMANDS": [], "CLEAR_FINISHED_JOBS": False}


def add_form(task_path: str, args: str = "[]") -> dict[str, str]:
    return {
        "key": "sneaky",
        "description": "",
        "schedule": "every second",
        "task_path": task_path,
        "command": "",
        "args": args,
        "kwargs": "",
        "queue_name": "",
        "priority": "",
    }


def adder() -> Client:
    """Staff with only the permission to add recurring tasks (and see them)."""
    return client_with("add_recurringtask", "view_recurringtask")


@pytest.mark.parametrize(
    "path",
    [
        "django_solidq.recurring.run_command",
        "django_solidq.admin.recurring_form.run_command",  # main's form imported it
        "tests.services.test_security_recurring.run_command",
        "tests.services.test_security_recurring.runner_copy",
    ],
)
@override_settings(SOLIDQ=NO_COMMANDS)
def test_the_admin_refuses_the_command_runner_under_any_name(path):
    response = adder().post(ADD, add_form(path, args=json.dumps([SHELL])))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "task_path" in errors, errors
    assert not RecurringTask.objects.exists()


def test_the_runner_is_recognised_by_its_function():
    assert is_command_runner(run_command)
    assert is_command_runner(runner_copy)
    assert is_command_runner(
        resolve_known_task("tests.services.test_security_recurring.run_command")
    )
    assert not is_command_runner(resolve_known_task("tests.app.tasks.noop"))
    assert not is_command_runner(run_command.func)  # the bare function is not a Task


@pytest.fixture
def probe_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A module not yet imported whose import leaves a mark: (its name, the mark's path)."""
    marker = tmp_path / "imported"
    name = "solidq_import_probe"
    (tmp_path / f"{name}.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('1')\n"
        "from django.tasks import task\n\n@task\ndef probe():\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    yield name, marker
    sys.modules.pop(name, None)


@override_settings(SOLIDQ=NO_COMMANDS)
def test_the_form_imports_no_module_that_is_not_an_apps_tasks_module(probe_module):
    name, marker = probe_module
    response = adder().post(ADD, add_form(f"{name}.probe"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "not loaded and is not an app's tasks module" in errors["task_path"][0]
    assert not marker.exists(), "the form imported the module (and ran its code)"
    assert not RecurringTask.objects.exists()


@override_settings(SOLIDQ=NO_COMMANDS)
def test_the_form_still_finds_tasks_in_app_tasks_modules():
    response = adder().post(ADD, add_form("tests.app.tasks.noop"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert RecurringTask.objects.get().task_path == "tests.app.tasks.noop"


# Defence in depth: rows written straight into the table --------------------------------------
def enqueue_row(key: str = "by-hand", **columns) -> Job | None:
    row = RecurringTask.objects.create(key=key, schedule="every second", **columns)
    return enqueue_tick(row, datetime(2030, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("static", [False, True])
@pytest.mark.parametrize(
    "columns",
    [
        {"task_path": "django_solidq.recurring.run_command", "args": [SHELL]},
        {"task_path": "django_solidq.admin.recurring_form.run_command", "args": [SHELL]},
        {"task_path": "tests.services.test_security_recurring.runner_copy", "args": [SHELL]},
        {"command": SHELL},
    ],
    ids=["runner", "re-exported runner", "runner copy", "command"],
)
@override_settings(SOLIDQ=NO_COMMANDS)
def test_a_row_written_by_hand_runs_no_command_line_the_settings_do_not_allow(columns, static):
    with pytest.raises((CommandNotAllowed, ImportError)):
        enqueue_row(static=static, **columns)
    assert not Job.objects.exists()


def test_run_now_of_such_a_row_is_refused_too():
    with override_settings(SOLIDQ=NO_COMMANDS):
        row = RecurringTask.objects.create(
            key="by-hand", schedule="@daily", static=False, command=SHELL
        )
        with pytest.raises(CommandNotAllowed, match="ADMIN_RECURRING_COMMANDS"):
            run_now(row)
    assert not Job.objects.exists()


def test_commands_the_settings_allow_still_run():
    entry = {"command": "check", "schedule": "every second"}
    with override_settings(SOLIDQ={"RECURRING": {"by-hand": entry}, **NO_COMMANDS}):
        assert enqueue_row(static=True, command="check") is not None  # defined in settings
    with override_settings(SOLIDQ={"ADMIN_RECURRING_COMMANDS": ["check"]}):
        assert (
            enqueue_row("dynamic", static=False, command="check --deploy") is not None
        )  # allowed name
    assert Job.objects.count() == 2


def test_a_static_row_differing_from_its_settings_entry_is_refused():
    entry = {"command": "check", "schedule": "every second"}
    with override_settings(SOLIDQ={"RECURRING": {"by-hand": entry}, **NO_COMMANDS}):
        with pytest.raises(CommandNotAllowed):
            enqueue_row(static=True, command=SHELL)
    assert not Job.objects.exists()


@override_settings(SOLIDQ=NO_COMMANDS)
def test_the_python_api_refuses_what_the_scheduler_would_refuse():
    with pytest.raises(ValueError, match="command runner"):
        django_solidq.schedule_recurring_task(
            "k", task=runner_copy, schedule="@daily", args=["check"]
        )
    with pytest.raises(ValueError, match="ADMIN_RECURRING_COMMANDS"):
        django_solidq.schedule_recurring_task("k", command="shell", schedule="@daily")
    assert not RecurringTask.objects.exists()
