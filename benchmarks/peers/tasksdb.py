"""django-tasks-db (PyPI ``django-tasks-db``): ``manage.py db_worker``, one task at a time
per process; no bulk enqueue API (jobs are pre-loaded with its model's ``bulk_create``)."""

from __future__ import annotations

from typing import Any

from benchmarks.peers import _common, _django
from benchmarks.peers._common import Config

SYSTEM = "tasksdb"
LABEL = "django-tasks-db"
REQUIREMENT = "django-tasks-db==0.13.0"
ENV = {"DJANGO_SETTINGS_MODULE": _django.SETTINGS, "BENCH_SYSTEM": SYSTEM}
CONFIGS = [
    Config("defaults", "defaults (1 db_worker, interval 1 s)", default=True, options={"n": 1}),
    Config(
        "2x",
        "2 db_workers, interval 0.05 s",
        options={"n": 2, "args": ["--interval", "0.05", "--no-startup-delay"]},
    ),
]
BULK_PER_CALL: tuple[int, ...] = ()  # no bulk API


def workers(config: Config, python: str) -> list[tuple[list[str], dict[str, str]]]:
    argv = [python, "-m", "django", "db_worker", "--no-reload", *config.options.get("args", [])]
    return [(argv, dict(ENV)) for _ in range(config.options["n"])]


def load(kind: str, n: int, seconds: float) -> None:
    """Set-up only (untimed): rows as its ``enqueue`` writes them, by ``bulk_create``."""
    from django.db import transaction
    from django.utils.json import normalize_json
    from django_tasks_db.models import DBTaskResult, get_date_max

    from benchmarks.peers.django_tasks import bound

    task, args, _ = bound(kind, seconds)
    rows = [
        DBTaskResult(
            args_kwargs=normalize_json({"args": args, "kwargs": {}}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=get_date_max(),
            backend_name="default",
        )
        for _ in range(n)
    ]
    with transaction.atomic():
        DBTaskResult.objects.bulk_create(rows, batch_size=1000)


def bulk(n: int, per_call: int) -> dict[str, Any]:
    return {"unsupported": "django-tasks-db has no bulk enqueue API"}


RUNNER = _common.Runner(
    version=lambda: {"system": LABEL, **_django.versions("django-tasks-db")},
    setup=_django.migrate,
    reset=lambda: _django.truncate("django_tasks_database_"),
    load=load,
    single=_django.single,
    bulk=bulk,
    latency=_django.latency,
    prepare=_django.prepare,
)

if __name__ == "__main__":
    _common.main_exit(RUNNER)
