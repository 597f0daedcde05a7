"""The chain around each attempt: ``SOLIDQ["MIDDLEWARE"]``, then the task's own hooks.

A middleware is a factory, as in Django: ``factory(perform) -> callable(task_result) -> value``,
built once per process, first in the list outermost. Then the task's ``around`` hooks
(``hook(task_result, proceed) -> value``, first outermost), its ``before`` hooks
(``hook(task_result)``), the task itself, and its ``after`` hooks (``hook(task_result, value)``,
on success only, as Active Job's ``after_perform``). An exception anywhere in the chain fails
the attempt like an exception in the task: recorded, retried by the task's rules, never fatal
to the worker.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from inspect import iscoroutinefunction
from typing import Any

from django.tasks import TaskContext, TaskResult
from django.utils.module_loading import import_string

from django_solidq.conf import get_config
from django_solidq.runtime.event_loop import current_runner

Perform = Callable[[TaskResult], Any]


def run_task(result: TaskResult) -> Any:
    """The task's hooks around the task's own call."""
    task = result.task

    def call() -> Any:
        run_before(result)
        args, kwargs = arguments(result)
        runner = current_runner.get()
        if runner is not None and iscoroutinefunction(task.func):
            # A worker's async job: its coroutine runs on the worker's event loop.
            value = runner(task.func(*args, **kwargs))
        else:
            value = task.call(*args, **kwargs)
        run_after(result, value)
        return value

    for around in reversed(getattr(task, "around", ())):
        call = functools.partial(around, result, call)
    return call()


def run_before(result: TaskResult) -> None:
    for before in getattr(result.task, "before", ()):
        before(result)


def run_after(result: TaskResult, value: Any) -> None:
    for after in getattr(result.task, "after", ()):
        after(result, value)


def arguments(result: TaskResult) -> tuple[list[Any], dict[str, Any]]:
    """The task's call arguments: its context first if it takes one."""
    args = [*result.args]
    if result.task.takes_context:
        args.insert(0, TaskContext(task_result=result))
    return args, result.kwargs


def wraps_calls(task_path: str) -> bool:
    """Whether code wraps the call of the task at ``task_path`` (configured middleware, the
    task's ``around`` hooks): then the call runs inside that code, in one thread."""
    return bool(get_config().middleware) or _has_around_hooks(task_path)


@functools.lru_cache(maxsize=1024)
def _has_around_hooks(task_path: str) -> bool:
    try:
        task = import_string(task_path)
    except Exception:
        return False  # the attempt fails as it starts, wherever it runs
    return bool(getattr(task, "around", ()))


@functools.cache
def _chain(paths: tuple[str, ...]) -> Perform:
    perform: Perform = run_task
    for path in reversed(paths):
        perform = import_string(path)(perform)
    return perform


def perform_chain() -> Perform:
    """The whole chain for the configured middleware (built once per configuration)."""
    return _chain(get_config().middleware)
