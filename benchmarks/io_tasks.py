"""I/O-bound benchmark tasks (``benchmarks/io_drain.sh``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from django.tasks import task


@task
def sleep_sync(seconds: float) -> None:
    time.sleep(seconds)


@task
async def sleep_async(seconds: float) -> None:
    await asyncio.sleep(seconds)


def passthrough(perform: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A middleware that does nothing: what wrapping a call costs async jobs (their bridge
    threads), ``SOLIDQ["MIDDLEWARE"] = ["benchmarks.io_tasks.passthrough"]``."""
    return perform
