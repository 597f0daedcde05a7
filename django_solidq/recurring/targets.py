"""What a recurring entry runs: its task on a SolidQueueBackend (``solid_task``), found
without importing arbitrary modules (``resolve_known_task``), and how the command runner is
recognised under any name (``is_command_runner``)."""

from __future__ import annotations

import importlib
import shlex
import sys
from typing import Any

from django.apps import apps
from django.conf import settings
from django.tasks import Task, task_backends
from django.tasks.exceptions import InvalidTask

from django_solidq.backend import SolidQueueBackend

from .builtin import run_command


def is_command_runner(found: Any) -> bool:
    """Whether ``found`` is the built-in command runner, under whatever name it was reached
    (``django_solidq.recurring.run_command`` is importable through any module importing it, and
    ``using()`` makes copies): compared by the function it runs, not by its path."""
    return isinstance(found, Task) and found.func is run_command.func


def task_modules() -> set[str]:
    """The modules a form may import to find a task: each installed app's ``tasks`` module,
    where tasks live by convention. Anything else must already be imported."""
    return {f"{app.name}.tasks" for app in apps.get_app_configs()}


def resolve_known_task(path: str) -> Any:
    """The object at dotted ``path``, importing nothing but a module that defines tasks: the
    module must already be imported, or be (under) an installed app's ``tasks`` module.
    Raises ImportError otherwise, so a form never runs a module's import-time code."""
    module_name, _, attribute = path.rpartition(".")
    if not module_name or not attribute:
        raise ImportError(f"{path!r} is not a dotted path (module.function)")
    module = sys.modules.get(module_name)
    if module is None:
        if not any(
            module_name == name or module_name.startswith(f"{name}.") for name in task_modules()
        ):
            raise ImportError(
                f"module {module_name!r} is not loaded and is not an app's tasks module (only "
                "installed apps' 'tasks' modules are imported from here)"
            )
        module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError as exc:
        raise ImportError(f"module {module_name!r} has no attribute {attribute!r}") from exc


def command_name(line: Any) -> str | None:
    """The management command a command line runs (None when it is not a command line)."""
    try:
        words = shlex.split(line) if isinstance(line, str) else []
    except ValueError:
        return None
    return words[0] if words else None


def solid_task(found: Task, queue: str | None = None, priority: int | None = None) -> Task:
    """``found`` with the entry's queue and priority, on a SolidQueueBackend (its own, or the
    first configured one when the task belongs to another backend)."""
    changes: dict[str, Any] = {}
    if queue is not None:
        changes["queue_name"] = queue
    if priority is not None:
        changes["priority"] = priority
    if not isinstance(found.get_backend(), SolidQueueBackend):
        changes["backend"] = solid_backend_alias()
    return found.using(**changes) if changes else found


def solid_backend_alias() -> str:
    """The alias of the first SolidQueueBackend in ``TASKS``."""
    for alias in getattr(settings, "TASKS", {}):
        if isinstance(task_backends[alias], SolidQueueBackend):
            return str(alias)
    raise InvalidTask("No SolidQueueBackend is configured in TASKS.")
