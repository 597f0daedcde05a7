"""The in-Django half of the benchmarks, run by ``benchmarks/run.py`` as a subprocess.

It runs in either virtualenv with either settings module (``DJANGO_SETTINGS_MODULE`` is
``benchmarks.settings`` for django_solidq, ``benchmarks.peer_settings`` for django-tasks-db),
does one thing, and prints one JSON object on its last stdout line. Everything it times is
timed here, inside the already set-up interpreter, so interpreter and Django start-up are
never part of an enqueue rate.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any


def _side() -> str:
    from django.conf import settings

    backend = settings.TASKS["default"]["BACKEND"]
    return "ours" if backend.startswith("django_solidq") else "peer"


def cmd_migrate(_: argparse.Namespace) -> dict[str, Any]:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return {"ok": True}


def cmd_enqueue_single(ns: argparse.Namespace) -> dict[str, Any]:
    from benchmarks.tasks import noop

    for _ in range(min(20, ns.n)):  # warm-up: connection, first-query caches
        noop.enqueue()
    started = time.perf_counter()
    for _ in range(ns.n):
        noop.enqueue()
    seconds = time.perf_counter() - started
    return {"n": ns.n, "seconds": seconds, "rate": ns.n / seconds}


def cmd_enqueue_bulk(ns: argparse.Namespace) -> dict[str, Any]:
    """Bulk-enqueue n no-op jobs. Ours: the public ``enqueue_all``. The peer has no bulk API,
    so ``--setup`` fills its table with ``bulk_create`` of its model (drain set-up only; not a
    rate anyone could get through the peer's API, and never reported as one)."""
    from benchmarks.tasks import noop

    if _side() == "ours":
        import django_solidq

        if not ns.setup:  # warm-up: connection, first-query caches
            django_solidq.enqueue_all([noop.bind() for _ in range(min(10, ns.n))])
        started = time.perf_counter()
        django_solidq.enqueue_all([noop.bind() for _ in range(ns.n)])
        seconds = time.perf_counter() - started
        return {"n": ns.n, "seconds": seconds, "rate": ns.n / seconds, "api": "enqueue_all"}
    if not ns.setup:
        return {"n": ns.n, "unsupported": "django-tasks-db has no bulk enqueue API"}
    from django.db import transaction
    from django.utils.json import normalize_json
    from django_tasks_db.models import DBTaskResult, get_date_max

    task = noop
    rows = [
        DBTaskResult(
            args_kwargs=normalize_json({"args": [], "kwargs": {}}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=get_date_max(),  # what the peer's enqueue stores for "no run_after"
            backend_name="default",
        )
        for _ in range(ns.n)
    ]
    started = time.perf_counter()
    with transaction.atomic():
        DBTaskResult.objects.bulk_create(rows, batch_size=1000)
    seconds = time.perf_counter() - started
    return {"n": ns.n, "seconds": seconds, "api": "bulk_create (set-up only)"}


def cmd_enqueue_limited(ns: argparse.Namespace) -> dict[str, Any]:
    """Ours only: n jobs of benchmarks.limited_tasks.<task>, keys 0..keys-1 round robin."""
    import django_solidq
    from benchmarks import limited_tasks

    task = getattr(limited_tasks, ns.task)
    started = time.perf_counter()
    django_solidq.enqueue_all([task.bind(i % ns.keys) for i in range(ns.n)])
    return {"n": ns.n, "seconds": time.perf_counter() - started}


def cmd_enqueue_one(ns: argparse.Namespace) -> dict[str, Any]:
    from benchmarks import tasks

    task = getattr(tasks, ns.task)
    args = [json.loads(a) for a in ns.args]
    result = task.enqueue(*args)
    return {"id": str(result.id), "enqueued_at": time.time()}


def _wait_all(ids: list[str], timeout: float) -> dict[str, Any]:
    from django.tasks import TaskResultStatus, default_task_backend

    results: dict[str, Any] = {}
    deadline = time.monotonic() + timeout
    pending = list(ids)
    while pending and time.monotonic() < deadline:
        still = []
        for result_id in pending:
            result = default_task_backend.get_result(result_id)
            if result.status in (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED):
                results[result_id] = result
            else:
                still.append(result_id)
        pending = still
        if pending:
            time.sleep(0.1)
    return results


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = (len(ordered) - 1) * q
    low = int(index)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (index - low)


def cmd_latency(ns: argparse.Namespace) -> dict[str, Any]:
    """Enqueue ``stamp`` one at a time, ``spacing`` apart; start - enqueue per job."""
    from benchmarks.tasks import stamp

    warm = [str(stamp.enqueue().id) for _ in range(ns.warmup)]
    if len(_wait_all(warm, ns.timeout)) < len(warm):
        return {"error": f"warm-up jobs did not finish within {ns.timeout}s: is a worker up?"}
    time.sleep(ns.spacing)
    sent: list[tuple[str, float, float]] = []
    next_at = time.perf_counter()
    for _ in range(ns.n):
        called = time.time()
        result = stamp.enqueue()
        returned = time.time()
        sent.append((str(result.id), called, returned))
        next_at += ns.spacing
        pause = next_at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    done = _wait_all([s[0] for s in sent], ns.timeout)
    from_call, from_return, enqueue_ms, missing, failed = [], [], [], 0, 0
    for result_id, called, returned in sent:
        result = done.get(result_id)
        if result is None:
            missing += 1
            continue
        if result.status != "SUCCESSFUL":
            failed += 1
            continue
        started = float(result.return_value)
        from_call.append((started - called) * 1000)
        from_return.append((started - returned) * 1000)
        enqueue_ms.append((returned - called) * 1000)
    if not from_call:
        return {"error": f"no job finished ({missing} missing, {failed} failed)"}
    return {
        "n": ns.n,
        "measured": len(from_call),
        "missing": missing,
        "failed": failed,
        "p50_ms": _percentile(from_call, 0.5),
        "p95_ms": _percentile(from_call, 0.95),
        "max_ms": max(from_call),
        "p50_from_commit_ms": _percentile(from_return, 0.5),
        "p95_from_commit_ms": _percentile(from_return, 0.95),
        "enqueue_call_p50_ms": statistics.median(enqueue_ms),
    }


def main() -> int:
    import django

    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate").set_defaults(func=cmd_migrate)
    p = sub.add_parser("enqueue-single")
    p.add_argument("n", type=int)
    p.set_defaults(func=cmd_enqueue_single)
    p = sub.add_parser("enqueue-bulk")
    p.add_argument("n", type=int)
    p.add_argument("--setup", action="store_true")
    p.set_defaults(func=cmd_enqueue_bulk)
    p = sub.add_parser("enqueue-limited")
    p.add_argument("task")
    p.add_argument("n", type=int)
    p.add_argument("--keys", type=int, default=1)
    p.set_defaults(func=cmd_enqueue_limited)
    p = sub.add_parser("enqueue-one")
    p.add_argument("task")
    p.add_argument("args", nargs="*")
    p.set_defaults(func=cmd_enqueue_one)
    p = sub.add_parser("latency")
    p.add_argument("n", type=int)
    p.add_argument("--spacing", type=float, default=0.02)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--timeout", type=float, default=20.0)
    p.set_defaults(func=cmd_latency)
    ns = parser.parse_args()
    django.setup()
    out = ns.func(ns)
    print(json.dumps(out))
    return 1 if "error" in out else 0


if __name__ == "__main__":
    sys.exit(main())
