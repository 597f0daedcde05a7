"""Tasks for the in-process actor tests: gates the test opens, so a job runs exactly as long
as the test wants (no sleeps)."""

from __future__ import annotations

import threading
from collections import defaultdict

from django.tasks import task

STARTED: defaultdict[str, threading.Event] = defaultdict(threading.Event)
OPEN: defaultdict[str, threading.Event] = defaultdict(threading.Event)


def reset() -> None:
    STARTED.clear()
    OPEN.clear()


@task
def gated(name: str) -> str:
    """Starts, then waits until the test opens its gate (30 s at most)."""
    STARTED[name].set()
    if not OPEN[name].wait(30):
        raise TimeoutError(f"gate {name!r} never opened")
    return name


def gated_before_hook(result) -> None:
    """A ``before`` hook that blocks until the test opens the gate named by the job's
    argument: a hook stuck on I/O."""
    name = result.args[0]
    STARTED[name].set()
    if not OPEN[name].wait(30):
        raise TimeoutError(f"gate {name!r} never opened")


@task(before=[gated_before_hook])
async def async_held_before(name: str) -> str:
    return name
