"""The Celery application of the comparison (broker: the local ``redis-server`` the
orchestrator starts, ``BENCH_REDIS_URL``; no result backend, results ignored)."""

from __future__ import annotations

import os

from celery import Celery

from benchmarks.peers import _common

app = Celery("bench", broker=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6399/0"))
app.conf.update(task_ignore_result=True, broker_connection_retry_on_startup=True)


@app.task(name="line")
def line(tag: str = "") -> None:
    _common.record_line(tag)


@app.task(name="sleep_line")
def sleep_line(seconds: float) -> None:
    _common.sleep_line(seconds)
