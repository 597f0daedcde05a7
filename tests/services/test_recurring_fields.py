"""The recurring-task field table (ENTRY_FIELDS) is what the model, the admin's form and list,
the entry checks and docs/recurring.md use."""

from __future__ import annotations

from pathlib import Path

from django_solidq.admin.recurring import EDIT_FIELDS, LIST_DISPLAY
from django_solidq.admin.recurring_form import ADD_FIELDS, RecurringTaskForm
from django_solidq.models import RecurringTask
from django_solidq.models.recurring_task import DEFINITION_FIELDS, ENTRY_FIELDS, REQUIRED
from django_solidq.recurring import row_fields
from django_solidq.recurring.reference import replace_in
from django_solidq.recurring.validation import entry_problems

DOCS = Path(__file__).resolve().parents[2] / "docs" / "recurring.md"


def test_the_docs_options_table_is_the_field_table():
    text = DOCS.read_text()
    assert replace_in(text) == text, (
        "docs/recurring.md's options table differs from ENTRY_FIELDS: run scripts/reference-docs"
    )


def test_every_field_is_a_column_of_the_model_with_the_tables_default():
    for field in ENTRY_FIELDS:
        column = RecurringTask._meta.get_field(field.column)
        if field.default is not REQUIRED:
            assert column.get_default() == field.default, field.option
    assert DEFINITION_FIELDS == tuple(field.column for field in ENTRY_FIELDS)


def test_a_valid_entry_sets_exactly_the_definition_columns():
    columns = row_fields({"task": "tests.app.tasks.noop", "schedule": "@daily"})
    assert tuple(columns) == DEFINITION_FIELDS
    assert columns["args"] == [] and columns["description"] == ""


def test_the_admin_form_and_pages_show_the_tables_fields():
    assert ADD_FIELDS == ("key", *DEFINITION_FIELDS)
    form = RecurringTaskForm()
    for field in ENTRY_FIELDS:
        assert form.fields[field.column].label == field.label
        if field.help_text:
            assert form.fields[field.column].help_text == field.help_text
        assert field.column in EDIT_FIELDS
        assert all(name in LIST_DISPLAY for name in field.listed)


def test_an_unknown_option_names_the_tables_options():
    [problem] = entry_problems(
        "x", {"task": "tests.app.tasks.noop", "schedule": "@daily", "y": 1}, "X"
    )
    expected = ", ".join(sorted(field.option for field in ENTRY_FIELDS))
    assert problem.hint == f"Allowed keys are: {expected}."
