"""The Recurring tasks page: adding, editing and removing dynamic tasks; static ones read-only."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.test import Client, override_settings
from django.urls import reverse

import django_solidq
from django_solidq.admin.recurring_form import FormWhere, form_error
from django_solidq.models import Job, RecurringTask
from django_solidq.recurring import CLEAR_FINISHED_KEY, entry_problems, task_call
from django_solidq.runtime.scheduler import Ticks
from tests.admin.test_admin_support import client_with

pytestmark = pytest.mark.django_db

RECURRING = reverse("admin:django_solidq_recurringtask_changelist")
ADD = reverse("admin:django_solidq_recurringtask_add")
SETTINGS_ENTRY = {"task": "tests.app.tasks.noop", "schedule": "@daily"}
VALID = {
    "key": "report-42",
    "description": "Weekly report of customer 42",
    "schedule": "every monday at 9am",
    "task_path": "tests.app.tasks.echo",
    "command": "",
    "args": '[42, "pdf"]',
    "kwargs": '{"full": true}',
    "queue_name": "reports",
    "priority": "5",
}


# The commands these tests schedule from the admin (none may be, unless allowed).
ALLOWED = {**settings.SOLIDQ, "ADMIN_RECURRING_COMMANDS": ["clearsessions", "check"]}


@pytest.fixture(autouse=True)
def allowed_commands():
    with override_settings(SOLIDQ=ALLOWED):
        yield


def change_url(task: RecurringTask) -> str:
    return reverse("admin:django_solidq_recurringtask_change", args=[task.pk])


def delete_url(task: RecurringTask) -> str:
    return reverse("admin:django_solidq_recurringtask_delete", args=[task.pk])


def errors_of(response) -> dict[str, list[str]]:
    """The form's errors, field -> messages ("__all__" for the whole form)."""
    assert response.status_code == 200, response
    return {
        field: list(messages)
        for field, messages in response.context["adminform"].form.errors.items()
    }


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def dynamic(key: str = "mine", **options) -> RecurringTask:
    options = {"task": "tests.app.tasks.add", "schedule": "@hourly", "args": [1, 2], **options}
    return django_solidq.schedule_recurring_task(key, **options)


def static_row(key: str = "nightly") -> RecurringTask:
    return RecurringTask.objects.create(
        key=key, schedule="0 3 * * *", task_path="tests.app.tasks.noop", static=True
    )


def delete_action(client: Client, tasks: list[RecurringTask], confirm: bool = True):
    data = {
        "action": "delete_selected",
        "_selected_action": [str(t.pk) for t in tasks],
        "index": "0",
    }
    first = client.post(RECURRING, data, follow=True)
    if not confirm:
        return first
    data.pop("index")
    return client.post(RECURRING, {**data, "post": "yes"}, follow=True)


# Adding -----------------------------------------------------------------------------------------
class TestAdd:
    def test_the_add_form_shows_the_entry_fields_and_says_what_it_makes(self, admin_client):
        response = admin_client.get(ADD)
        assert response.status_code == 200
        form = response.context["adminform"].form
        assert list(form.fields) == [
            "key",
            "description",
            "schedule",
            "task_path",
            "command",
            "args",
            "kwargs",
            "queue_name",
            "priority",
        ]
        content = response.content.decode()
        assert "A dynamic task, stored in the database" in content
        assert 'name="_save"' in content
        assert "solidq-nav" in content  # Mission Control's navigation

    def test_a_valid_task_is_saved_through_the_api_and_reaches_the_scheduler(self, admin_client):
        response = admin_client.post(ADD, VALID, follow=True)
        assert response.redirect_chain[-1][0] == RECURRING
        task = RecurringTask.objects.get(key="report-42")
        assert (task.static, task.schedule, task.task_path, task.command) == (
            False,
            "every monday at 9am",
            "tests.app.tasks.echo",
            None,
        )
        assert (task.args, task.kwargs, task.queue_name, task.priority) == (
            [42, "pdf"],
            {"full": True},
            "reports",
            5,
        )
        assert task.description == "Weekly report of customer 42"
        assert list(RecurringTask.objects.dynamic().values_list("key", flat=True)) == ["report-42"]
        found, args, kwargs = task_call(task)
        assert (found.module_path, found.queue_name, found.priority) == (
            "tests.app.tasks.echo",
            "reports",
            5,
        )
        assert (args, kwargs) == ([42, "pdf"], {"full": True})
        ticks = Ticks()
        now = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)  # a Tuesday
        ticks.load(RecurringTask.objects.dynamic(), now)
        assert ticks.by_key["report-42"].next_at == datetime(2025, 6, 16, 9, 0, tzinfo=UTC)
        entry = LogEntry.objects.get()
        assert (entry.action_flag, entry.object_id) == (ADDITION, str(task.pk))
        assert "report-42" in " ".join(messages_of(response))

    def test_a_command_with_empty_arguments_and_options(self, admin_client):
        data = {
            **VALID,
            "key": "sessions",
            "task_path": "",
            "command": "clearsessions --verbosity 0",
            "args": "",
            "kwargs": "",
            "queue_name": "",
            "priority": "",
            "description": "",
        }
        admin_client.post(ADD, data)
        task = RecurringTask.objects.get(key="sessions")
        assert (task.task_path, task.command, task.args, task.kwargs) == (
            None,
            "clearsessions --verbosity 0",
            [],
            {},
        )
        assert (task.queue_name, task.priority, task.description, task.static) == (
            None,
            None,
            "",
            False,
        )

    @pytest.mark.parametrize(
        ("changes", "field", "words"),
        [
            (
                {"schedule": "every blah"},
                "schedule",
                ["Schedule is invalid: Invalid schedule 'every blah'", "2am'. Fix the schedule"],
            ),
            ({"schedule": ""}, "schedule", ["This field is required."]),
            (
                {"task_path": "tests.app.tasks.nope"},
                "task_path",
                ["Task 'tests.app.tasks.nope' cannot be imported", "Fix the dotted path"],
            ),
            (
                {"task_path": "tests.app.tasks.Boom"},
                "task_path",
                ["is a type, not a Task", "Decorate the function with @task"],
            ),
            (
                {"task_path": ""},
                "task_path",
                ["This task has neither of 'task' and 'command'", "Give exactly one"],
            ),
            (
                {"command": "check"},
                "task_path",
                ["This task has both of 'task' and 'command'", "Give exactly one"],
            ),
            (
                {"task_path": "", "command": "nosuchcommand", "args": "", "kwargs": ""},
                "command",
                ["'nosuchcommand' is not a management command", "manage.py help"],
            ),
            (
                {"task_path": "", "command": "check", "kwargs": ""},
                "args",
                ["Args does not apply to a command", "in the 'command' string"],
            ),
            (
                {"args": "[42, 'pdf']"},
                "args",
                ["Args is not valid JSON", 'Write a JSON list, e.g. ["weekly", 10]'],
            ),
            (
                {"args": '{"a": 1}'},
                "args",
                ["Args must be a list, got {'a': 1}", "Use a list of JSON values"],
            ),
            (
                {"kwargs": "{days: 7}"},
                "kwargs",
                ["Kwargs is not valid JSON", 'Write a JSON object, e.g. {"days": 7}'],
            ),
            (
                {"kwargs": "[1]"},
                "kwargs",
                ["Kwargs must be a dict with string keys, got [1]"],
            ),
            (
                {"priority": "500"},
                "priority",
                [
                    "Priority must be a whole number between -100 and 100",
                    "Use a priority from -100",
                ],
            ),
            ({"priority": "high"}, "priority", ["Enter a whole number."]),
            ({"key": ""}, "key", ["This field is required."]),
        ],
    )
    def test_bad_input_names_the_field_and_the_fix(self, admin_client, changes, field, words):
        response = admin_client.post(ADD, {**VALID, **changes})
        errors = errors_of(response)
        assert list(errors) == [field], errors
        for word in words:
            assert word in errors[field][0], errors
        assert not RecurringTask.objects.exists()
        assert "errornote" in response.content.decode()

    def test_every_field_with_a_problem_says_so_at_once(self, admin_client):
        data = {**VALID, "schedule": "every blah", "args": "[1,", "priority": "1000"}
        errors = errors_of(admin_client.post(ADD, data))
        assert sorted(errors) == ["args", "priority", "schedule"]
        assert errors["args"][0].startswith("Args is not valid JSON.")
        assert errors["schedule"][0].startswith("Schedule is invalid: Invalid schedule")
        assert errors["priority"][0].startswith(
            "Priority must be a whole number between -100 and 100."
        )

    def test_a_queue_the_backend_does_not_allow(self, admin_client):
        tasks_setting = {
            "default": {**settings.TASKS["default"], "QUEUES": ["default", "reports"]},
        }
        with override_settings(TASKS=tasks_setting):
            errors = errors_of(admin_client.post(ADD, {**VALID, "queue_name": "elsewhere"}))
        assert errors == {
            "queue_name": [
                "Queue 'elsewhere' is not valid for backend. Use a priority from -100 to 100 and a "
                "queue the backend allows (TASKS[...]['QUEUES'])."
            ]
        }
        assert not RecurringTask.objects.exists()

    def test_the_key_of_a_static_task_is_refused(self, admin_client):
        errors = errors_of(admin_client.post(ADD, {**VALID, "key": CLEAR_FINISHED_KEY}))
        assert errors == {
            "key": [
                f"'{CLEAR_FINISHED_KEY}' is the key of a static recurring task, defined in "
                "settings: pick another key (or change that task in SOLIDQ['RECURRING'])."
            ]
        }
        with override_settings(SOLIDQ={"RECURRING": {"nightly": SETTINGS_ENTRY}}):
            errors = errors_of(admin_client.post(ADD, {**VALID, "key": "nightly"}))
        assert list(errors) == ["key"] and "static recurring task" in errors["key"][0]
        static_row("synced")  # a static row the settings of this process do not name
        errors = errors_of(admin_client.post(ADD, {**VALID, "key": "synced"}))
        assert list(errors) == ["key"] and "static recurring task" in errors["key"][0]
        assert RecurringTask.objects.get(key="synced").static
        assert not RecurringTask.objects.dynamic().exists()

    def test_an_existing_dynamic_key_is_not_replaced(self, admin_client):
        dynamic("report-42")
        errors = errors_of(admin_client.post(ADD, {**VALID, "schedule": "@daily"}))
        assert errors == {
            "key": [
                "A dynamic recurring task 'report-42' already exists: edit it, or pick another key."
            ]
        }
        assert RecurringTask.objects.get(key="report-42").schedule == "@hourly"

    def test_a_key_longer_than_the_column(self, admin_client):
        errors = errors_of(admin_client.post(ADD, {**VALID, "key": "k" * 256}))
        assert list(errors) == ["key"] and "at most 255 characters" in errors["key"][0]


# Editing ----------------------------------------------------------------------------------------
class TestEdit:
    def test_the_change_form_edits_everything_but_the_key(self, admin_client):
        task = dynamic()
        response = admin_client.get(change_url(task))
        assert response.status_code == 200
        form = response.context["adminform"].form
        assert "key" not in form.fields and "schedule" in form.fields
        content = response.content.decode()
        assert 'name="_save"' in content and "A dynamic task: saved changes reach" in content
        assert form.initial["args"] == [1, 2]

        data = {
            "description": "now a command",
            "schedule": "*/5 * * * *",
            "task_path": "",
            "command": "check --deploy",
            "args": "",
            "kwargs": "",
            "queue_name": "ops",
            "priority": "-3",
            "key": "renamed",  # ignored: the key is read-only
        }
        response = admin_client.post(change_url(task), data, follow=True)
        assert response.redirect_chain[-1][0] == RECURRING
        row = RecurringTask.objects.get()
        assert (row.pk, row.key, row.static) == (task.pk, "mine", False)
        assert (row.schedule, row.task_path, row.command, row.args) == (
            "*/5 * * * *",
            None,
            "check --deploy",
            [],
        )
        assert (row.queue_name, row.priority, row.description) == ("ops", -3, "now a command")
        assert row.updated_at > task.updated_at
        assert LogEntry.objects.get().action_flag == CHANGE

    def test_an_invalid_edit_is_refused_and_changes_nothing(self, admin_client):
        task = dynamic()
        data = {
            "description": "",
            "schedule": "every blah",
            "task_path": "tests.app.tasks.add",
            "command": "",
            "args": "[1, 2]",
            "kwargs": "{}",
            "queue_name": "",
            "priority": "",
        }
        errors = errors_of(admin_client.post(change_url(task), data))
        assert list(errors) == ["schedule"]
        assert errors["schedule"][0].startswith(
            "Schedule is invalid: Invalid schedule 'every blah'"
        )
        assert RecurringTask.objects.get().schedule == "@hourly"


# Removing ---------------------------------------------------------------------------------------
class TestDelete:
    def test_the_delete_page_removes_a_dynamic_task(self, admin_client):
        task = dynamic()
        keep = dynamic("keep")
        page = admin_client.get(delete_url(task))
        assert page.status_code == 200 and b"Are you sure" in page.content
        response = admin_client.post(delete_url(task), {"post": "yes"}, follow=True)
        assert response.redirect_chain[-1][0] == RECURRING
        assert list(RecurringTask.objects.values_list("pk", flat=True)) == [keep.pk]
        assert LogEntry.objects.get().action_flag == DELETION

    def test_delete_selected_removes_dynamic_tasks_and_leaves_static_ones(self, admin_client):
        gone, also_gone = dynamic("a"), dynamic("b")
        nightly = static_row()
        response = delete_action(admin_client, [gone, also_gone, nightly], confirm=False)
        content = response.content.decode()
        assert "Are you sure" in content
        assert "Static tasks are defined in settings and are not deleted here: nightly." in content
        assert [str(t) for t in response.context["queryset"]] == [str(gone), str(also_gone)]
        response = delete_action(admin_client, [gone, also_gone, nightly])
        assert list(RecurringTask.objects.values_list("key", flat=True)) == ["nightly"]
        assert "Successfully deleted 2 recurring tasks." in messages_of(response)

    def test_delete_selected_with_only_static_tasks_deletes_nothing(self, admin_client):
        nightly = static_row()
        response = delete_action(admin_client, [nightly], confirm=False)
        assert response.redirect_chain[-1][0] == RECURRING
        assert messages_of(response) == [
            "Static tasks are defined in settings and are not deleted here: nightly."
        ]
        response = delete_action(admin_client, [nightly])
        assert RecurringTask.objects.get().key == "nightly"


# Static tasks -----------------------------------------------------------------------------------
class TestStatic:
    def test_a_static_page_is_read_only_and_says_where_it_is_defined(self, admin_client):
        task = static_row()
        response = admin_client.get(change_url(task))
        assert response.status_code == 200
        content = response.content.decode()
        assert "A static task, defined in settings" in content
        assert 'name="_save"' not in content and 'name="_continue"' not in content
        assert delete_url(task) not in content
        assert list(response.context["adminform"].form.fields) == []
        assert "tests.app.tasks.noop" in content

    def test_static_tasks_cannot_be_changed_or_deleted(self, admin_client):
        task = static_row()
        data = {**VALID, "schedule": "@hourly"}
        assert admin_client.post(change_url(task), data).status_code == 403
        assert admin_client.get(delete_url(task)).status_code == 403
        assert admin_client.post(delete_url(task), {"post": "yes"}).status_code == 403
        row = RecurringTask.objects.get()
        assert (row.schedule, row.static, row.task_path) == (
            "0 3 * * *",
            True,
            "tests.app.tasks.noop",
        )
        assert not LogEntry.objects.exists()

    def test_a_dynamic_row_whose_key_the_settings_now_define_is_read_only(self, admin_client):
        task = dynamic("nightly")
        with override_settings(SOLIDQ={"RECURRING": {"nightly": SETTINGS_ENTRY}}):
            page = admin_client.get(change_url(task)).content.decode()
            assert "A static task, defined in settings" in page
            changed = admin_client.post(change_url(task), {**VALID, "schedule": "@daily"})
            deleted = admin_client.post(delete_url(task), {"post": "yes"})
        assert (changed.status_code, deleted.status_code) == (403, 403)
        assert RecurringTask.objects.get().schedule == "@hourly"

    def test_a_missing_task_redirects_as_the_stock_admin_does(self, admin_client):
        url = reverse("admin:django_solidq_recurringtask_change", args=[987654])
        response = admin_client.get(url, follow=True)
        assert response.redirect_chain[-1][0] == reverse("admin:index")
        assert "ID \u201c987654\u201d" in " ".join(messages_of(response))

    def test_run_now_still_works_from_a_static_tasks_page(self, admin_client):
        task = static_row()
        data = {"CHANGE_FORM-action": "run_now", "_selected_action": [str(task.pk)]}
        response = admin_client.post(change_url(task), data, follow=True)
        assert response.status_code == 200
        assert any(m.startswith("nightly: enqueued") for m in messages_of(response))
        assert Job.objects.get().task_path == "tests.app.tasks.noop"
        assert RecurringTask.objects.get().static

    def test_the_list_shows_add_for_dynamic_and_static_rows(self, admin_client):
        dynamic()
        static_row()
        response = admin_client.get(RECURRING)
        content = response.content.decode()
        assert ADD in content
        assert [t.key for t in response.context["cl"].result_list] == ["mine", "nightly"]
        actions = [name for name, _ in response.context["action_form"].fields["action"].choices]
        assert actions == ["", "run_now", "delete_selected"]


# Permissions ------------------------------------------------------------------------------------
class TestPermissions:
    def test_a_viewer_cannot_add_change_or_delete(self, db):
        task = dynamic()
        viewer = client_with("view_recurringtask", username="viewer")
        page = viewer.get(RECURRING)
        assert page.status_code == 200
        assert ADD not in page.content.decode()
        assert page.context["action_form"] is None  # neither delete nor run now
        assert viewer.get(ADD).status_code == 403
        assert viewer.post(ADD, {**VALID, "key": "new"}).status_code == 403
        detail = viewer.get(change_url(task))
        assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
        assert viewer.post(change_url(task), {**VALID, "schedule": "@daily"}).status_code == 403
        assert viewer.get(delete_url(task)).status_code == 403
        assert viewer.post(delete_url(task), {"post": "yes"}).status_code == 403
        delete_action(viewer, [task])
        row = RecurringTask.objects.get()
        assert (row.key, row.schedule) == ("mine", "@hourly")

    def test_add_permission_allows_adding_only(self, db):
        task = dynamic()
        adder = client_with("view_recurringtask", "add_recurringtask", username="adder")
        assert viewer_cannot_change_or_delete(adder, task)
        response = adder.post(ADD, VALID)
        assert response.status_code == 302
        assert set(RecurringTask.objects.values_list("key", flat=True)) == {"mine", "report-42"}

    def test_change_permission_allows_editing_only(self, db):
        task = dynamic()
        editor = client_with("view_recurringtask", "change_recurringtask", username="editor")
        assert editor.get(ADD).status_code == 403
        assert editor.get(delete_url(task)).status_code == 403
        data = {**VALID, "schedule": "@daily"}
        assert editor.post(change_url(task), data).status_code == 302
        assert RecurringTask.objects.get().schedule == "@daily"

    def test_delete_permission_allows_deleting_only(self, db):
        task, other = dynamic(), dynamic("other")
        remover = client_with("view_recurringtask", "delete_recurringtask", username="remover")
        assert remover.get(ADD).status_code == 403
        assert remover.post(change_url(task), {**VALID, "schedule": "@daily"}).status_code == 403
        assert remover.post(delete_url(task), {"post": "yes"}).status_code == 302
        delete_action(remover, [other])
        assert not RecurringTask.objects.exists()

    def test_run_now_keeps_its_own_permission(self, db):
        task = dynamic()
        editor = client_with("view_recurringtask", "change_recurringtask", username="editor")
        data = {"action": "run_now", "_selected_action": [str(task.pk)], "index": "0"}
        editor.post(RECURRING, data)
        assert not Job.objects.exists()
        operator = client_with("view_recurringtask", "run_job_now", username="operator")
        operator.post(RECURRING, data)
        assert Job.objects.get().args == [1, 2]


def test_entry_problems_map_to_form_fields_by_their_field_not_their_text():
    key_problem = entry_problems("", {"task": "tests.app.tasks.noop", "schedule": "@daily"}, "")
    assert [(p.id, p.field) for p in key_problem] == [("django_solidq.E017", "key")]
    worded = entry_problems(
        "", {"task": "tests.app.tasks.noop", "schedule": "@daily"}, FormWhere("")
    )
    assert [form_error(p) for p in worded] == [
        (
            "key",
            "The key must be a non-empty string of at most 255 characters, got ''. Name each "
            "recurring task with a short string.",
        )
    ]
    options = {"task": "tests.app.tasks.echo", "schedule": "@daily", "args": [float("nan")]}
    [problem] = entry_problems("x", options, FormWhere(""))
    field, message = form_error(problem)
    assert field == "args" and message.startswith("Argument #0 (nan) of tests.app.tasks.echo")
    options = {"task": "tests.app.tasks.echo", "schedule": "@daily", "kwargs": {"a": float("nan")}}
    [problem] = entry_problems("x", options, "SOLIDQ['RECURRING']['x']")
    assert (problem.id, problem.field) == ("django_solidq.E018", "kwargs")
    assert form_error(problem)[0] == "kwargs"


@pytest.mark.parametrize(
    ("options", "check_id", "field"),
    [
        ({"schedule": "every blah"}, "django_solidq.E013", "schedule"),
        ({"task": "nope.nothing"}, "django_solidq.E014", "task"),
        ({"task": None, "command": "no_such_command"}, "django_solidq.E015", "command"),
        ({"command": "check"}, "django_solidq.E016", "task"),
        ({"color": "red"}, "django_solidq.E017", None),
        ({"args": "x"}, "django_solidq.E018", "args"),
        ({"queue": ""}, "django_solidq.E019", "queue"),
        ({"priority": 500}, "django_solidq.E019", "priority"),
        ({"description": 5}, "django_solidq.E019", "description"),
    ],
)
def test_every_problem_carries_its_field_and_the_tables_check_id(options, check_id, field):
    entry = {"task": "tests.app.tasks.echo", "schedule": "@daily", **options}
    entry = {name: value for name, value in entry.items() if value is not None}
    [problem] = entry_problems("x", entry, "SOLIDQ['RECURRING']['x']")
    assert (problem.id, problem.field) == (check_id, field)


def viewer_cannot_change_or_delete(client: Client, task: RecurringTask) -> bool:
    return (
        client.post(change_url(task), {**VALID, "schedule": "@daily"}).status_code == 403
        and client.post(delete_url(task), {"post": "yes"}).status_code == 403
        and RecurringTask.objects.get(pk=task.pk).schedule == "@hourly"
    )


# Without django-admin-interface ----------------------------------------------------------------
def test_the_pages_render_with_the_stock_admin(admin_client):
    task, nightly = dynamic(), static_row()
    apps = [app for app in settings.INSTALLED_APPS if app not in ("admin_interface", "colorfield")]
    registry = {
        model: model_admin
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label != "admin_interface"
    }
    with (
        override_settings(INSTALLED_APPS=apps),
        mock.patch.object(admin.site, "_registry", registry),
    ):
        added = admin_client.get(ADD).content.decode()
        edited = admin_client.get(change_url(task)).content.decode()
        viewed = admin_client.get(change_url(nightly)).content.decode()
    assert "admin-interface" not in added
    assert "A dynamic task, stored in the database" in added and 'name="_save"' in added
    assert "A dynamic task: saved changes" in edited and 'name="_save"' in edited
    assert "A static task, defined in settings" in viewed and 'name="_save"' not in viewed


# No code from a form ------------------------------------------------------------------------
class TestNoCodeFromTheAdmin:
    def test_a_command_not_allowed_in_settings_is_refused(self, admin_client):
        data = {**VALID, "task_path": "", "args": "", "kwargs": ""}
        shell = "shell -c \"import os; os.system('touch /tmp/pwned')\""
        errors = errors_of(admin_client.post(ADD, {**data, "command": shell}))
        assert errors["command"] == [
            "The command 'shell' can't be scheduled from the admin: a command line can run any "
            "code. Schedule a @task instead, or add 'shell' to "
            "SOLIDQ['ADMIN_RECURRING_COMMANDS'] in settings."
        ]
        assert not RecurringTask.objects.exists()

    def test_no_command_at_all_by_default(self, admin_client):
        with override_settings(SOLIDQ={**ALLOWED, "ADMIN_RECURRING_COMMANDS": []}):
            data = {**VALID, "task_path": "", "args": "", "kwargs": "", "command": "check"}
            errors = errors_of(admin_client.post(ADD, data))
        assert "can't be scheduled from the admin" in errors["command"][0]
        assert not RecurringTask.objects.exists()

    def test_an_edit_cannot_turn_a_task_into_a_forbidden_command(self, admin_client):
        task = dynamic()
        data = {**VALID, "task_path": "", "args": "", "kwargs": "", "command": "dbshell"}
        errors = errors_of(admin_client.post(change_url(task), data))
        assert "'dbshell' can't be scheduled" in errors["command"][0]
        assert RecurringTask.objects.get().command is None

    def test_the_command_runner_task_is_refused(self, admin_client):
        data = {
            **VALID,
            "task_path": "django_solidq.recurring.run_command",
            "args": '["shell -c 1"]',
            "kwargs": "",
        }
        errors = errors_of(admin_client.post(ADD, data))
        assert errors["task_path"] == [
            "The command runner can't be scheduled from the admin: give a command instead "
            "(if allowed), or a task."
        ]
        assert not RecurringTask.objects.exists()

    def test_the_setting_is_checked(self):
        from django_solidq.conf import validate

        bad = validate({"ADMIN_RECURRING_COMMANDS": ["check --deploy"]})
        assert [p.id for p in bad] == ["django_solidq.E008"]
        assert "ADMIN_RECURRING_COMMANDS" in bad[0].msg
        assert validate({"ADMIN_RECURRING_COMMANDS": ["check"]}) == []
