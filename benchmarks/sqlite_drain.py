"""No-op drain on one SQLite file (WAL) with N worker processes: jobs/s, 10 % -> 90 % done.

    python benchmarks/sqlite_drain.py                      # 5,000 jobs, 2 processes, defaults
    python benchmarks/sqlite_drain.py -n 5000 --processes 2 --threads 3,10 --repeat 3

Each run: a fresh SQLite file in a temporary directory, ``migrate``, ``enqueue_all`` of n
no-op jobs, then ``manage.py runjobs`` (the settings of ``benchmarks/sqlite_settings.py``, the
documented WAL options) until every job is finished. Runs of the given configurations are
interleaved; medians are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_once(n: int, processes: int, threads: int | None, timeout: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="solidq-sqlite-bench-") as tmp:
        path = Path(tmp) / "db.sqlite3"
        worker: dict[str, object] = {"queues": ["*"], "processes": processes}
        if threads:
            worker["threads"] = threads
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "DJANGO_SETTINGS_MODULE": "benchmarks.sqlite_settings",
            "BENCH_SQLITE_PATH": str(path),
            "BENCH_SOLIDQ": json.dumps({"WORKERS": [worker]}),
        }
        setup = (
            "import django; django.setup(); from django.core.management import call_command; "
            "call_command('migrate', verbosity=0); import django_solidq; "
            "from benchmarks.tasks import noop; "
            f"[django_solidq.enqueue_all([noop.bind() for _ in range(1000)]) "
            f"for _ in range({n} // 1000)]"
        )
        subprocess.run([sys.executable, "-c", setup], env=env, check=True, cwd=REPO)
        started = time.time()
        proc = subprocess.Popen(
            [sys.executable, "-m", "django", "runjobs"],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        db = sqlite3.connect(path, timeout=30)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                done = db.execute(
                    "SELECT count(*) FROM solidq_jobs WHERE finished_at IS NOT NULL"
                ).fetchone()[0]
                if done >= n:
                    break
                time.sleep(0.2)
            rows = db.execute(
                "SELECT finished_at FROM solidq_jobs WHERE finished_at IS NOT NULL "
                "ORDER BY finished_at"
            ).fetchall()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
            db.close()
        times = [_epoch(row[0]) for row in rows]
        low, high = int(0.1 * len(times)), int(0.9 * len(times)) - 1
        return {
            "done": len(times),
            "steady": (high - low) / (times[high] - times[low]) if high > low else 0.0,
            "total": len(times) / (times[-1] - started) if times else 0.0,
        }


def _epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", default="", help="comma list; empty: the default")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120)
    ns = parser.parse_args()
    configs = [int(t) for t in ns.threads.split(",") if t] or [None]
    results: dict[int | None, list[dict[str, float]]] = {t: [] for t in configs}
    for _ in range(ns.repeat):
        for threads in configs:
            run = run_once(ns.n, ns.processes, threads, ns.timeout)
            results[threads].append(run)
            print(f"  {ns.processes} x {threads or 'default'} threads: {run}", flush=True)
    for threads, runs in results.items():
        steady = statistics.median(r["steady"] for r in runs)
        total = statistics.median(r["total"] for r in runs)
        print(
            f"SQLite WAL, {ns.processes} processes x {threads or 'default'} threads, "
            f"{ns.n:,} no-ops: steady {steady:,.0f}/s, start -> all done {total:,.0f}/s "
            f"(medians of {len(runs)})"
        )


if __name__ == "__main__":
    main()
