"""Tasks for ``tests/services/test_django_conformance.py``.

They mirror the sample tasks of Django's own ``tests/tasks/tasks.py`` (same behaviour, our
names and bodies), plus a few that look at their own result while they run. Module level,
as Django requires.
"""

from __future__ import annotations

from typing import Any

from django.tasks import TaskContext, TaskResultStatus, task


@task()
def noop_task(*args: Any, **kwargs: Any) -> None:
    return None


@task
def noop_task_from_bare_decorator(*args: Any, **kwargs: Any) -> None:
    return None


@task()
async def noop_task_async(*args: Any, **kwargs: Any) -> None:
    return None


@task()
def calculate_meaning_of_life() -> int:
    return 42


@task()
async def calculate_meaning_of_life_async() -> int:
    return 42


@task()
def failing_task_value_error() -> None:
    raise ValueError("This Task failed due to ValueError")


@task()
def failing_task_system_exit() -> None:
    raise SystemExit("This Task failed due to SystemExit")


@task()
def failing_task_keyboard_interrupt() -> None:
    raise KeyboardInterrupt("This Task failed due to KeyboardInterrupt")


@task()
def complex_exception() -> None:
    raise ValueError(ValueError("This task failed"))


@task()
def complex_return_value() -> Any:
    # Neither JSON serializable nor picklable.
    return lambda: True


@task(takes_context=True)
def get_task_id(context: TaskContext) -> str:
    return context.task_result.id


@task(takes_context=True)
def check_context(context: TaskContext, attempt: int) -> None:
    assert isinstance(context, TaskContext)
    assert context.attempt == attempt


@task(takes_context=True)
def describe_context(context: TaskContext) -> dict[str, Any]:
    """What the context says about the running attempt."""
    result = context.task_result
    return {
        "id": result.id,
        "status": str(result.status),
        "attempt": context.attempt,
        "worker_ids": list(result.worker_ids),
        "started": result.started_at is not None,
        "last_attempted": result.last_attempted_at is not None,
        "finished": result.finished_at is not None,
        "args": result.args,
        "kwargs": result.kwargs,
    }


@task(takes_context=True)
def stored_state_while_running(context: TaskContext) -> dict[str, Any]:
    """The job's state as ``get_result`` reads it from the database mid-run."""
    stored = context.task_result.task.get_backend().get_result(context.task_result.id)
    return {
        "running": stored.status == TaskResultStatus.RUNNING,
        "is_finished": stored.is_finished,
        "started": stored.started_at is not None,
        "last_attempted": stored.last_attempted_at is not None,
        "finished": stored.finished_at is not None,
        "attempts": stored.attempts,
    }
