"""The procrastinate application of the comparison (PostgreSQL: ``BENCH_PG_DSN``)."""

from __future__ import annotations

import os

import procrastinate

from benchmarks.peers import _common

app = procrastinate.App(
    connector=procrastinate.PsycopgConnector(conninfo=os.environ.get("BENCH_PG_DSN", ""))
)


@app.task(name="line")
def line(tag: str = "") -> None:
    _common.record_line(tag)


@app.task(name="sleep_line")
def sleep_line(seconds: float) -> None:
    _common.sleep_line(seconds)


@app.task(name="async_sleep_line")
async def async_sleep_line(seconds: float) -> None:
    await _common.async_sleep_line(seconds)
