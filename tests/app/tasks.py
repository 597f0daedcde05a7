"""Tasks the tests enqueue. Module level, as Django requires."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from django.tasks import TaskContext, task


class Boom(Exception):
    pass


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def noop() -> None:
    return None


@task
def echo(*args: Any, **kwargs: Any) -> dict[str, Any]:
    return {"args": list(args), "kwargs": kwargs}


@task
def fail(message: str = "boom") -> None:
    raise Boom(message)


@task
async def async_add(a: int, b: int) -> int:
    return a + b


@task(takes_context=True)
def attempt_number(context: TaskContext) -> int:
    return context.attempt


@task(queue_name="other", priority=10)
def on_other_queue() -> str:
    return "other"


@task
def record(path: str, label: str, sleep: float = 0.0) -> str:
    """Append ``label`` (and the pid) to a file; the tests read the file to see what ran."""
    with open(path, "a") as log:
        log.write(f"start {label} {os.getpid()}\n")
    if sleep:
        time.sleep(sleep)
    with open(path, "a") as log:
        log.write(f"end {label} {os.getpid()}\n")
    return label


@task
def sleep_then_mark(path: str, seconds: float) -> None:
    Path(path).write_text("started\n")
    time.sleep(seconds)
    with open(path, "a") as f:
        f.write("finished\n")


@task
def exit_worker(path: str, times: int) -> str:
    """Kill the worker process running it (``os._exit``) the first ``times`` attempts."""
    marker = Path(path)
    attempts = int(marker.read_text()) if marker.exists() else 0
    marker.write_text(str(attempts + 1))
    if attempts < times:
        os._exit(1)
    return "survived"
