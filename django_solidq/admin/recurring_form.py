"""The form that adds or edits a dynamic recurring task in the admin: checked exactly as an
entry of ``SOLIDQ['RECURRING']`` is (``entry_problems``, system checks E013 to E019), each
problem shown next to its field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from django_solidq.conf import Problem
from django_solidq.models import RecurringTask
from django_solidq.models.recurring_task import BY_OPTION, ENTRY_FIELDS, REQUIRED
from django_solidq.recurring import (
    Where,
    dynamic_problems,
    entry_problems,
    resolve_known_task,
    static_entries,
)

# The form's fields: a recurring entry's options, by the field table.
OPTION_FIELDS = {field.option: field.column for field in ENTRY_FIELDS}
LABELS = {field.column: field.label for field in ENTRY_FIELDS}
ADD_FIELDS = ("key", *OPTION_FIELDS.values())


class FormWhere(Where):
    """Problems worded for the form: an option by its label ("Schedule is invalid: …"), the
    entry as "This task", and what is said about it as a sentence of its own."""

    def whole(self) -> str:
        return "This task"

    def option(self, name: str) -> str:
        return BY_OPTION[name].label

    def about(self, text: str) -> str:
        return text[:1].upper() + text[1:]


def is_static(task: RecurringTask) -> bool:
    """Whether the task belongs to the settings: a static row, or a key the settings define
    (a dynamic row the next scheduler boot turns static)."""
    return task.static or task.key in static_entries()


def form_error(problem: Problem) -> tuple[str | None, str]:
    """The form field a problem (of ``entry_problems`` with a ``FormWhere``) is about — by
    its ``field`` — (None: the whole form) and its message with the fix."""
    message = problem.msg.rstrip()
    if problem.hint and message and message[-1] not in ".!?:":
        message += "."  # the message and its fix are two sentences
    text = f"{message} {problem.hint}".strip()
    if problem.field is None:
        return None, text
    return OPTION_FIELDS.get(problem.field, problem.field), text


def admin_only_problems(options: dict[str, Any]) -> list[tuple[str, str]]:
    """What the admin refuses beyond the settings' checks: no code from a form (the command
    runner under any name, commands not in ``SOLIDQ['ADMIN_RECURRING_COMMANDS']``), as
    (field, message)."""
    return [
        (OPTION_FIELDS[option], message)
        for option, message in dynamic_problems(options, resolve_known_task, "from the admin")
    ]


class RecurringTaskForm(forms.ModelForm):
    """A dynamic recurring task: checked as an entry of ``SOLIDQ['RECURRING']`` is."""

    args = forms.JSONField(
        required=False,
        label=BY_OPTION["args"].label,
        help_text=BY_OPTION["args"].help_text,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        error_messages={
            "invalid": 'Args is not valid JSON. Write a JSON list, e.g. ["weekly", 10] '
            "(strings in double quotes), or leave it empty."
        },
    )
    kwargs = forms.JSONField(
        required=False,
        label=BY_OPTION["kwargs"].label,
        help_text=BY_OPTION["kwargs"].help_text,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        error_messages={
            "invalid": 'Kwargs is not valid JSON. Write a JSON object, e.g. {"days": 7} '
            "(keys and strings in double quotes), or leave it empty."
        },
    )
    # No bounds here: the entry check says what the range is, as for the settings.
    priority = forms.IntegerField(
        required=False,
        label=BY_OPTION["priority"].label,
        help_text=BY_OPTION["priority"].help_text,
    )

    class Meta:
        model = RecurringTask
        fields = ADD_FIELDS
        labels = {"key": "Key", **LABELS}
        help_texts = {
            "key": "A unique name for this task. It cannot be changed later.",
            **{field.column: field.help_text for field in ENTRY_FIELDS if field.help_text},
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 2, "cols": 60})}

    # What clean() found valid: the arguments of schedule_recurring_task.
    entry: dict[str, Any] | None = None

    def clean_key(self) -> str:
        key: str = self.cleaned_data["key"]
        if key in static_entries() or RecurringTask.objects.static().filter(key=key).exists():
            raise ValidationError(
                f"{key!r} is the key of a static recurring task, defined in settings: pick "
                "another key (or change that task in SOLIDQ['RECURRING'])."
            )
        if RecurringTask.objects.filter(key=key).exists():
            raise ValidationError(
                f"A dynamic recurring task {key!r} already exists: edit it, or pick another key."
            )
        return key

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        # Fields with errors of their own (not JSON, not a number, required) keep those;
        # the entry check reports on the others.
        failed = set(self.errors)
        key = self.instance.key if self.instance.pk else cleaned.get("key") or "new"
        options: dict[str, Any] = {}
        for entry_field in ENTRY_FIELDS:  # an empty field is the option left out
            value = cleaned.get(entry_field.column)
            if value is not None:
                options[entry_field.option] = value
            elif entry_field.default is not None and entry_field.default is not REQUIRED:
                options[entry_field.option] = entry_field.default_value()
        for problem in entry_problems(key, options, FormWhere(""), resolve_known_task):
            field, message = form_error(problem)
            if field not in failed:
                self.add_error(field if field in self.fields else None, message)
        for field, message in admin_only_problems(options):
            if field not in self.errors:
                self.add_error(field, message)
        if not self.errors:
            self.entry = options
        return cleaned

    def schedule_arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``schedule_recurring_task`` for this valid form."""
        assert self.entry is not None, "call is_valid() first"
        return dict(self.entry)
