"""django_solidq, from this checkout: ``runjobs`` workers, ``enqueue`` / ``enqueue_all``."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from benchmarks.peers import _common, _django
from benchmarks.peers._common import Config

SYSTEM = "ours"
LABEL = "django_solidq"
ENV = {"DJANGO_SETTINGS_MODULE": _django.SETTINGS, "BENCH_SYSTEM": SYSTEM}
TUNED = {"queues": ["*"], "threads": 25, "processes": 2, "polling_interval": 0.05}
ASYNC = {"queues": ["*"], "async_concurrency": 500, "polling_interval": 0.05}
CONFIGS = [
    Config("defaults", "documented defaults (no SOLIDQ setting)", default=True),
    Config(
        "2x25",
        "2 processes x 25 threads (prefetch 100 by default), polling 0.05 s",
        options={"WORKERS": [TUNED]},
        processes=2,
    ),
    # async jobs: one process whose event loop runs up to 500 at once (the default 100 caps
    # 50 ms jobs at 2,000/s: 100 / 0.05 s)
    Config(
        "async500",
        "1 process x 10 threads, async_concurrency 500, polling 0.05 s",
        options={"WORKERS": [ASYNC]},
    ),
]
if os.environ.get("BENCH_OURS_TUNED"):  # another tuned configuration: a SOLIDQ dict (JSON)
    CONFIGS.append(
        Config(
            "tuned",
            f"SOLIDQ = {os.environ['BENCH_OURS_TUNED']}",
            options=json.loads(os.environ["BENCH_OURS_TUNED"]),
        )
    )


def describe(configs: list[Config]) -> list[Config]:
    """The defaults' label with the values this checkout has (in ours' interpreter only)."""
    from django_solidq.conf import WORKER_DEFAULTS, WorkerConfig

    values = {**WORKER_DEFAULTS, "prefetch": WorkerConfig(**WORKER_DEFAULTS).prefetch_limit}
    shown = ", ".join(f"{k} {v}" for k, v in values.items() if k != "queues")
    label = f"documented defaults (no SOLIDQ setting: {shown})"
    return [dataclasses.replace(c, label=label) if c.default else c for c in configs]


BULK_PER_CALL = (1000, 20000)  # the common 1,000 per call, and ours' large-batch figure


def workers(config: Config, python: str) -> list[tuple[list[str], dict[str, str]]]:
    """One ``runjobs`` (it forks its worker processes); defaults: no SOLIDQ setting at all."""
    env = dict(ENV)
    if config.options:
        env["BENCH_SOLIDQ"] = json.dumps(config.options)
    return [([python, "-m", "django", "runjobs"], env)]


def load(kind: str, n: int, seconds: float) -> None:
    import django_solidq
    from benchmarks.peers.django_tasks import bound

    call = bound(kind, seconds)
    for start in range(0, n, 10_000):
        django_solidq.enqueue_all([call] * min(10_000, n - start))


def bulk(n: int, per_call: int) -> dict[str, Any]:
    import django_solidq
    from benchmarks.peers.django_tasks import line

    return _common.time_bulk(
        lambda k: django_solidq.enqueue_all([line.bind() for _ in range(k)]), n, per_call
    )


RUNNER = _common.Runner(
    version=lambda: {"system": LABEL, **_django.versions("django-solidq")},
    setup=_django.migrate,
    reset=lambda: _django.truncate("solidq_"),
    load=load,
    single=_django.single,
    bulk=bulk,
    latency=_django.latency,
    prepare=_django.prepare,
)

if __name__ == "__main__":
    _common.main_exit(RUNNER)
