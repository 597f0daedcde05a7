"""dj-queue (PyPI ``dj-queue``): ``manage.py dj_queue``, ``backend.enqueue_all``."""

from __future__ import annotations

import json
from typing import Any

from benchmarks.peers import _common, _django
from benchmarks.peers._common import Config

SYSTEM = "djqueue"
LABEL = "dj-queue"
REQUIREMENT = "dj-queue==0.14.2"
ENV = {"DJANGO_SETTINGS_MODULE": _django.SETTINGS, "BENCH_SYSTEM": SYSTEM}
CONFIGS = [
    Config("defaults", "defaults (1 process x 3 threads, polling 0.1 s)", default=True),
    Config(
        "2x25",
        "2 processes x 25 threads, polling 0.05 s",
        options={
            "workers": [{"queues": "*", "threads": 25, "processes": 2, "polling_interval": 0.05}]
        },
    ),
]
BULK_PER_CALL = (1000,)


def workers(config: Config, python: str) -> list[tuple[list[str], dict[str, str]]]:
    env = dict(ENV)
    if config.options:
        env["BENCH_DJQ_OPTIONS"] = json.dumps(config.options)
    return [([python, "-m", "django", "dj_queue"], env)]


def _enqueue_all(calls: list[Any]) -> None:
    from benchmarks.peers.django_tasks import line

    line.get_backend().enqueue_all(calls)


def load(kind: str, n: int, seconds: float) -> None:
    from benchmarks.peers.django_tasks import bound

    task, args, kwargs = bound(kind, seconds)
    for start in range(0, n, 5000):
        _enqueue_all([(task, args, kwargs)] * min(5000, n - start))


def bulk(n: int, per_call: int) -> dict[str, Any]:
    from benchmarks.peers.django_tasks import line

    return _common.time_bulk(lambda k: _enqueue_all([(line, [], {})] * k), n, per_call)


RUNNER = _common.Runner(
    version=lambda: {"system": LABEL, **_django.versions("dj-queue")},
    setup=_django.migrate,
    reset=lambda: _django.truncate("dj_queue_"),
    load=load,
    single=_django.single,
    bulk=bulk,
    latency=_django.latency,
    prepare=_django.prepare,
)

if __name__ == "__main__":
    _common.main_exit(RUNNER)
