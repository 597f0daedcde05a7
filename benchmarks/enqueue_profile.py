"""Where enqueue time goes: per-job cumulative time of each step, from cProfile.

    BENCH_DB_NAME=solidq_perf_prof python benchmarks/enqueue_profile.py bulk 20000
    BENCH_DB_NAME=solidq_perf_prof python benchmarks/enqueue_profile.py single 1000

PostgreSQL (``benchmarks.settings``; the database must exist: it is migrated here and its
queue tables are emptied). ``bulk``: ``enqueue_all`` of 1,000 no-op calls at a time;
``single``: ``noop.enqueue()`` in a loop. One warm-up round, then one profiled round.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
from pathlib import Path

# (file suffix, function names) -> the line it is counted in
STEPS = [
    ("django_solidq/backend.py", ("prepare",), "backend.prepare"),
    ("django_solidq/arguments.py", ("normalize_arguments",), "  arguments checked"),
    ("models/job.py", ("build",), "  Job built"),
    ("runtime/verified.py", ("enqueue", "enqueue_all"), "store (verified.enqueue*)"),
    ("psycopg/cursor.py", ("execute",), "  of which psycopg execute"),
    ("django_solidq/backend.py", ("_enqueued",), "backend._enqueued"),
    ("django_solidq/results.py", ("to_result", "new_result"), "  TaskResult built"),
    ("django/dispatch/dispatcher.py", ("send",), "signals sent (task_enqueued, …)"),
]


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    import django_solidq
    from benchmarks.tasks import noop

    call_command("migrate", verbosity=0)
    what, n = sys.argv[1], int(sys.argv[2])

    def clear() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE solidq_ready_executions, solidq_scheduled_executions, "
                "solidq_claimed_executions, solidq_jobs CASCADE"
            )

    def work() -> None:
        if what == "single":
            for _ in range(n):
                noop.enqueue()
        else:
            for _ in range(n // 1000):
                django_solidq.enqueue_all([noop.bind() for _ in range(1000)])

    work()
    clear()
    profile = cProfile.Profile()
    profile.enable()
    work()
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    totals: dict[str, float] = {}
    whole = 0.0
    for (path, _, function), (_, _, _, cumulative, _) in stats.items():
        if function == "work":
            whole = cumulative
        for suffix, names, label in STEPS:
            if path.endswith(suffix) and function in names:
                totals[label] = totals.get(label, 0.0) + cumulative
    print(f"{what}: {whole / n * 1e6:.0f} us/job under cProfile")
    for _, _, label in STEPS:
        if label in totals:
            print(f"  {label}: {totals[label] / n * 1e6:.0f} us/job")


if __name__ == "__main__":
    main()
