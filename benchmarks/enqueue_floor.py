"""The floor under a single enqueue on PostgreSQL: the statement ``enqueue()`` sends, run from
psycopg alone (no Django, no task API; psycopg prepares it after its fifth run), against the
raw one-row ``INSERT`` + ``COMMIT`` the side-by-side harness calibrates with. Each line is the
milliseconds per call, interleaved round by round::

    BENCH_DB_NAME=solidq_perf_prof python benchmarks/enqueue_floor.py [calls] [rounds]

The database must exist and be migrated (``DJANGO_SETTINGS_MODULE=benchmarks.settings
python -m django migrate``). The jobs it inserts stay in the tables: use a scratch database.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg

JOB = (
    "INSERT INTO solidq_jobs (id, backend, task_path, queue_name, priority, args, kwargs, "
    "concurrency_key, scheduled_at, enqueued_at, errors, worker_ids, exception_executions) "
    "VALUES (%s, 'default', 'benchmarks.tasks.noop', 'default', 0, '[]'::jsonb, '{}'::jsonb, "
    "NULL, NULL, now(), '[]'::jsonb, '[]'::jsonb, '{}'::jsonb) "
    "RETURNING id, queue_name, priority, scheduled_at"
)
READY = (
    "INSERT INTO solidq_ready_executions (job_id, queue_name, priority, created_at) "
    "SELECT id, queue_name, priority, now() FROM j RETURNING 1"
)
VARIANTS: dict[str, tuple[str, Callable[[], tuple[Any, ...]]]] = {
    "raw one-row INSERT + COMMIT": ("INSERT INTO bench_floor (v) VALUES (%s)", lambda: (1,)),
    "the job row only": (JOB, lambda: (uuid.uuid4(),)),
    "job + ready row": (
        f"WITH j AS ({JOB}), e AS ({READY}) SELECT 1 FROM e",
        lambda: (uuid.uuid4(),),
    ),
    "job + ready row + NOTIFY (what enqueue() sends)": (
        f"WITH j AS ({JOB}), e AS ({READY}) SELECT pg_notify('solidq_ready', '') FROM e",
        lambda: (uuid.uuid4(),),
    ),
}


def main(calls: int = 1500, rounds: int = 3) -> None:
    name = os.environ.get("BENCH_DB_NAME", "solidq_bench")
    host = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
    with psycopg.connect(f"host={host} user=postgres dbname={name}", autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_floor (id serial PRIMARY KEY, v int)")
        times: dict[str, list[float]] = {label: [] for label in VARIANTS}
        try:
            for _ in range(rounds):
                for label, (sql, params) in VARIANTS.items():
                    began = time.perf_counter()
                    for _ in range(calls):
                        conn.execute(sql, params())
                    times[label].append((time.perf_counter() - began) / calls * 1000)
        finally:
            conn.execute("DROP TABLE bench_floor")
    for label, values in times.items():
        print(f"{label:50s} " + " / ".join(f"{v:.3f}" for v in values) + " ms")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
