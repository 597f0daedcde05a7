"""System checks for the SOLIDQ setting (stable IDs, listed in docs/configuration.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core import checks

from .conf import raw_setting, validate


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
    """The static recurring tasks: schedules, tasks, commands, arguments (E013-E019)."""
    from .recurring import check_recurring

    return [
        checks.Error(problem.msg, hint=problem.hint or None, id=problem.id)
        for problem in check_recurring()
    ]
