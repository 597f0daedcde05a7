"""Celery + Redis: ``celery worker`` against a private ``redis-server`` (started and stopped
by the orchestrator). Celery runs no ``async def`` tasks, so it sits out the async job."""

from __future__ import annotations

import json
import os
import sys
import uuid
from typing import Any

from benchmarks.peers import _common
from benchmarks.peers._common import Config

SYSTEM = "celery"
LABEL = "celery + Redis"
REQUIREMENT = "celery==5.7.0"
# kombu imports packaging without declaring it (a fresh virtualenv has none).
EXTRA_REQUIREMENTS = ("redis", "packaging")
ENV: dict[str, str] = {}
APP = "benchmarks.peers.celery_app"
CONFIGS = [
    Config("defaults", "defaults (prefork pool, concurrency = cores)", default=True),
    Config("solo", "--pool=solo", options={"args": ["--pool=solo"]}),
    Config(
        "threads25",
        "--pool=threads --concurrency=25",
        options={"args": ["--pool=threads", "-c", "25"]},
    ),
]
BULK_PER_CALL = (1000,)
NO_ASYNC = "Celery runs no async def tasks"


def workers(config: Config, python: str) -> list[tuple[list[str], dict[str, str]]]:
    argv = [python, "-m", "celery", "-A", APP, "worker", "--loglevel=WARNING"]
    return [([*argv, *config.options.get("args", [])], dict(ENV))]


def _redis() -> Any:
    import redis

    return redis.Redis.from_url(os.environ["BENCH_REDIS_URL"])


def reset() -> None:
    _redis().flushdb()


def _task(kind: str) -> Any:
    from benchmarks.peers import celery_app

    if kind == "async":
        raise RuntimeError(NO_ASYNC)
    return celery_app.line if kind == "line" else celery_app.sleep_line


def load(kind: str, n: int, seconds: float) -> None:
    """Set-up only (untimed): one message sent by Celery, copied with fresh ids by a Redis
    pipeline (sending 10,000 through Celery takes ~15 s)."""
    task = _task(kind)
    client = _redis()
    task.apply_async(args=[seconds] if kind == "sleep" else [])
    raw = client.lpop("celery")
    if raw is None:
        raise RuntimeError("no message in the 'celery' list after apply_async")
    message = json.loads(raw)
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        message["headers"]["id"] = message["headers"]["root_id"] = str(uuid.uuid4())
        message["properties"]["correlation_id"] = message["headers"]["id"]
        message["properties"]["delivery_tag"] = str(uuid.uuid4())
        pipe.lpush("celery", json.dumps(message))
        if i % 2000 == 1999:
            pipe.execute()
    pipe.execute()


def single(n: int) -> dict[str, Any]:
    return _common.time_single(_task("line").delay, n)


def bulk(n: int, per_call: int) -> dict[str, Any]:
    """Celery has no bulk enqueue: ``apply_async`` in a loop on one producer (one connection),
    what its docs suggest for sending many."""
    from benchmarks.peers import celery_app

    def many(k: int) -> None:
        with celery_app.app.producer_or_acquire() as producer:
            for _ in range(k):
                celery_app.line.apply_async(producer=producer)

    return _common.time_bulk(many, n, per_call)


def latency(n: int, spacing: float) -> dict[str, Any]:
    task = _task("line")
    return _common.paced(lambda tag: task.delay(tag), n, spacing)


def version() -> dict[str, Any]:
    import importlib.metadata as md

    out: dict[str, Any] = {"system": LABEL, "python": sys.version.split()[0]}
    for dist in ("celery", "kombu", "redis"):
        out[dist] = md.version(dist)
    return out


RUNNER = _common.Runner(
    version=version,
    setup=reset,
    reset=reset,
    load=load,
    single=single,
    bulk=bulk,
    latency=latency,
)

if __name__ == "__main__":
    _common.main_exit(RUNNER)
