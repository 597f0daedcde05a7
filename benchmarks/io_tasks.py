"""I/O-bound benchmark tasks (``benchmarks/io_drain.py``)."""

from __future__ import annotations

import asyncio
import time

from django.tasks import task


@task
def sleep_sync(seconds: float) -> None:
    time.sleep(seconds)


@task
async def sleep_async(seconds: float) -> None:
    await asyncio.sleep(seconds)
