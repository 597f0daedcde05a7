"""The static recurring entries — ``SOLIDQ['RECURRING']`` and the built-in cleanup — their
checks (E013 to E019) and the ``RecurringTask`` columns a valid entry becomes.

They are read from the configuration as far as it is valid (``usable_config``), so that the
recurring tasks are checked even while another part of ``SOLIDQ`` is wrong.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from django.tasks import Task

from django_solidq.conf import Config, Problem, build, usable_config
from django_solidq.models.recurring_task import ENTRY_FIELDS

from .builtin import CLEAR_FINISHED_KEY, CLEAR_FINISHED_PATH, CLEAR_FINISHED_SCHEDULE
from .validation import entry_problems

logger = logging.getLogger("django_solidq.scheduler")


def _config(raw: Any) -> Config:
    """The configuration of a raw ``SOLIDQ`` value (None: the settings')."""
    return usable_config() if raw is None else build(raw)


def builtin_entries(raw: Any = None) -> dict[str, dict[str, Any]]:
    """The built-in recurring tasks that the setting turns on."""
    config = _config(raw)
    if config.clear_finished_jobs and config.preserve_finished_jobs:
        return {
            CLEAR_FINISHED_KEY: {
                "task": CLEAR_FINISHED_PATH,
                "schedule": CLEAR_FINISHED_SCHEDULE,
                "description": "Built in: delete jobs finished more than "
                "SOLIDQ['CLEAR_FINISHED_JOBS_AFTER'] ago.",
            }
        }
    return {}


def static_entries(raw: Any = None) -> dict[str, dict[str, Any]]:
    """Every static recurring task, key -> options: ``SOLIDQ['RECURRING']`` and the built-in
    ones (an entry of the setting with a built-in's key replaces it)."""
    return {**builtin_entries(raw), **_config(raw).recurring}


def settings_where(key: Any) -> str:
    return f"SOLIDQ['RECURRING'][{key!r}]"


def check_recurring(raw: Any = None) -> list[Problem]:
    """Every problem of the static recurring tasks (system checks ``E013``…``E019``)."""
    builtins = builtin_entries(raw)
    own = _config(raw).recurring
    problems: list[Problem] = []
    for key, options in static_entries(raw).items():
        if key in builtins and key not in own:
            where = f"the built-in recurring task {key!r}"
            fix = (
                " (or set SOLIDQ['CLEAR_FINISHED_JOBS'] = False, or define "
                f"SOLIDQ['RECURRING'][{key!r}] yourself)"
            )
        else:
            where, fix = settings_where(key), ""
        problems += [
            dataclasses.replace(p, hint=f"{p.hint}{fix}")
            for p in entry_problems(key, options, where)
        ]
    return problems


def row_fields(options: dict[str, Any]) -> dict[str, Any]:
    """A valid entry's options as ``RecurringTask`` columns."""
    columns = {f.column: options.get(f.option, f.default_value()) for f in ENTRY_FIELDS}
    if columns["command"] is not None:
        columns.update(task_path=None, args=[], kwargs={})
    else:
        target = columns["task_path"]
        columns.update(
            task_path=target.module_path if isinstance(target, Task) else str(target),
            args=list(columns["args"]),
            kwargs=dict(columns["kwargs"]),
        )
    columns["description"] = columns["description"] or ""
    return columns


def static_definitions() -> dict[str, dict[str, Any]]:
    """The columns of every valid static entry, key -> columns, for the scheduler to store;
    invalid entries (which the checks report, and runjobs refuses) are logged and skipped."""
    definitions: dict[str, dict[str, Any]] = {}
    for key, options in static_entries().items():
        problems = entry_problems(key, options, settings_where(key))
        for problem in problems:
            logger.error("%s: %s %s", problem.id, problem.msg, problem.hint)
        if not problems:
            definitions[key] = row_fields(options)
    return definitions
