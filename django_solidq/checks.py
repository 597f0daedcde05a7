"""System checks for the SOLIDQ setting (stable IDs, listed in docs/configuration.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core import checks

from .conf import raw_setting, validate
from .recurring import check_recurring, solid_backend_alias


@checks.register()
def check_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    return [
        checks.Error(problem.msg, hint=problem.hint or None, id=problem.id)
        for problem in validate(raw_setting())
    ]


@checks.register()
def check_recurring_tasks(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """The static recurring tasks: schedules, tasks, commands, arguments (E013-E019).
    Without a SolidQueueBackend in TASKS they cannot be checked (nor run): W001 says so."""
    try:
        solid_backend_alias()
    except Exception:  # none configured (or TASKS is broken: Django's own checks report it)
        return [
            checks.Warning(
                "No backend in TASKS is django_solidq's: jobs are not stored in the queue "
                "tables, and runjobs and recurring tasks have nothing to run.",
                hint="Point TASKS at it: TASKS = {'default': {'BACKEND': "
                "'django_solidq.backend.SolidQueueBackend'}}.",
                id="django_solidq.W001",
            )
        ]
    return [
        checks.Error(problem.msg, hint=problem.hint or None, id=problem.id)
        for problem in check_recurring()
    ]
