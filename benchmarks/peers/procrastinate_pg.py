"""procrastinate: ``procrastinate worker`` processes (asyncio; sync tasks in threads),
``defer`` / ``batch_defer``."""

from __future__ import annotations

import os
import sys
from typing import Any

from benchmarks.peers import _common
from benchmarks.peers._common import Config

SYSTEM = "procrastinate"
LABEL = "procrastinate"
REQUIREMENT = "procrastinate==3.10.0"
ENV: dict[str, str] = {}
APP = "benchmarks.peers.procrastinate_app.app"
CONFIGS = [
    Config("defaults", "defaults (1 worker, concurrency 1, polling 5 s + LISTEN)", default=True),
    Config("2xc10", "2 workers x concurrency 10", options={"n": 2, "args": ["-c", "10"]}),
]
BULK_PER_CALL = (1000,)


def workers(config: Config, python: str) -> list[tuple[list[str], dict[str, str]]]:
    argv = [python, "-m", "procrastinate", f"--app={APP}", "worker"]
    argv += config.options.get("args", [])
    return [(argv, dict(ENV)) for _ in range(config.options.get("n", 1))]


def _app() -> Any:
    from benchmarks.peers import procrastinate_app

    return procrastinate_app


def setup() -> None:
    mod = _app()
    with mod.app.open():
        mod.app.schema_manager.apply_schema()


def reset() -> None:
    import psycopg

    with psycopg.connect(os.environ["BENCH_PG_DSN"], autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename LIKE 'procrastinate%'"
            )
        ]
        if tables:
            conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def _kwargs(kind: str, seconds: float) -> tuple[Any, dict[str, Any]]:
    mod = _app()
    if kind == "line":
        return mod.line, {}
    return (mod.sleep_line if kind == "sleep" else mod.async_sleep_line), {"seconds": seconds}


def load(kind: str, n: int, seconds: float) -> None:
    task, kwargs = _kwargs(kind, seconds)
    with _app().app.open():
        for start in range(0, n, 5000):
            task.batch_defer(*[kwargs] * min(5000, n - start))


def single(n: int) -> dict[str, Any]:
    mod = _app()
    with mod.app.open():
        return _common.time_single(mod.line.defer, n)


def bulk(n: int, per_call: int) -> dict[str, Any]:
    mod = _app()
    with mod.app.open():
        return _common.time_bulk(lambda k: mod.line.batch_defer(*[{}] * k), n, per_call)


def latency(n: int, spacing: float) -> dict[str, Any]:
    mod = _app()
    with mod.app.open():
        return _common.paced(lambda tag: mod.line.defer(tag=tag), n, spacing)


def version() -> dict[str, Any]:
    import importlib.metadata as md

    out: dict[str, Any] = {"system": LABEL, "python": sys.version.split()[0]}
    for dist in ("procrastinate", "psycopg"):
        out[dist] = md.version(dist)
    return out


RUNNER = _common.Runner(
    version=version,
    setup=setup,
    reset=reset,
    load=load,
    single=single,
    bulk=bulk,
    latency=latency,
)

if __name__ == "__main__":
    _common.main_exit(RUNNER)
