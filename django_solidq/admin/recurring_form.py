"""The form that adds or edits a dynamic recurring task in the admin: checked exactly as an
entry of ``SOLIDQ['RECURRING']`` is (``entry_problems``, system checks E013 to E019), each
problem shown next to its field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from django_solidq.conf import Problem
from django_solidq.models import RecurringTask
from django_solidq.recurring import (
    dynamic_problems,
    entry_problems,
    resolve_known_task,
    static_entries,
)

# The form's fields, as a recurring entry's options (see django_solidq.recurring.ENTRY_KEYS).
OPTION_FIELDS = {
    "schedule": "schedule",
    "task": "task_path",
    "command": "command",
    "args": "args",
    "kwargs": "kwargs",
    "queue": "queue_name",
    "priority": "priority",
    "description": "description",
}
LABELS = {
    "schedule": "Schedule",
    "task_path": "Task",
    "command": "Command",
    "args": "Args",
    "kwargs": "Kwargs",
    "queue_name": "Queue",
    "priority": "Priority",
    "description": "Description",
}
ADD_FIELDS = (
    "key",
    "description",
    "schedule",
    "task_path",
    "command",
    "args",
    "kwargs",
    "queue_name",
    "priority",
)


def is_static(task: RecurringTask) -> bool:
    """Whether the task belongs to the settings: a static row, or a key the settings define
    (a dynamic row the next scheduler boot turns static)."""
    return task.static or task.key in static_entries()


def form_error(problem: Problem, where: str) -> tuple[str | None, str]:
    """The form field an ``entry_problems`` problem is about (None: the whole form) and its
    message, worded for the form: "Schedule is invalid: …" instead of "<where>['schedule'] is
    invalid: …"."""
    message = problem.msg.rstrip()
    if problem.hint and message and message[-1] not in ".!?:":
        message += "."  # the message and its fix are two sentences
    text = f"{message} {problem.hint}".strip()
    for option, field in OPTION_FIELDS.items():
        prefix = f"{where}[{option!r}]"
        if text.startswith(prefix):
            return field, LABELS[field] + text[len(prefix) :]
    if problem.id == "django_solidq.E016":  # neither or both of task and command
        return "task_path", text.replace(where, "This task", 1)
    if text.startswith(f"{where}: "):  # the key, the arguments or the task's options
        rest = text[len(where) + 2 :]
        rest = rest[:1].upper() + rest[1:]
        if problem.id == "django_solidq.E017":
            return "key", rest
        if problem.id == "django_solidq.E018":
            return ("kwargs" if rest.startswith("Argument '") else "args"), rest
        lowered = rest.lower()
        if "priority" in lowered.split(".", 1)[0]:
            return "priority", rest
        if "queue" in lowered.split(".", 1)[0]:
            return "queue_name", rest
        return None, rest
    return None, text


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
        label="Args",
        help_text='Positional arguments, a JSON list: ["weekly", 10]. Empty for none.',
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        error_messages={
            "invalid": 'Args is not valid JSON. Write a JSON list, e.g. ["weekly", 10] '
            "(strings in double quotes), or leave it empty."
        },
    )
    kwargs = forms.JSONField(
        required=False,
        label="Kwargs",
        help_text='Keyword arguments, a JSON object: {"days": 7}. Empty for none.',
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        error_messages={
            "invalid": 'Kwargs is not valid JSON. Write a JSON object, e.g. {"days": 7} '
            "(keys and strings in double quotes), or leave it empty."
        },
    )
    # No bounds here: the entry check says what the range is, as for the settings.
    priority = forms.IntegerField(
        required=False,
        label="Priority",
        help_text="From -100 to 100, larger runs first. Empty for the task's own priority.",
    )

    class Meta:
        model = RecurringTask
        fields = ADD_FIELDS
        labels = {"key": "Key", **LABELS}
        help_texts = {
            "key": "A unique name for this task. It cannot be changed later.",
            "schedule": "A cron line ('0 2 * * *', with an optional seconds field first) or a "
            "phrase ('every day at 2am', 'every 5 minutes', '@hourly').",
            "task_path": "The dotted path of a @task function, e.g. myapp.tasks.cleanup. Give "
            "a task or a command, not both.",
            "command": "A management command line, e.g. 'clearsessions --verbosity 0'. Give a "
            "task or a command, not both.",
            "queue_name": "Empty for the task's own queue.",
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
        options: dict[str, Any] = {
            option: cleaned.get(field) for option, field in OPTION_FIELDS.items()
        }
        options["args"] = [] if options["args"] is None else options["args"]
        options["kwargs"] = {} if options["kwargs"] is None else options["kwargs"]
        options["description"] = options["description"] or ""
        for name in ("task", "command"):
            if options[name] is None:
                del options[name]
        where = f"Recurring task {key!r}"
        for problem in entry_problems(key, options, where, resolve_known_task):
            field, message = form_error(problem, where)
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
