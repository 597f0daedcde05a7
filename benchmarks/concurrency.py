"""Concurrency controls under load: a hot key and many keys, against the same jobs unlimited.

    python benchmarks/concurrency.py            # writes its section of docs/benchmarks.md
    python benchmarks/concurrency.py --quick    # smaller, prints only

Same machinery as run.py (its own PostgreSQL database, real ``runjobs`` subprocesses, polling
with timeouts, every process stopped on exit). Scenarios, drained by 2 worker processes of
10 threads: 1,000 jobs on one key with ``to=1``; 10,000 jobs over 100 keys with ``to=2``;
10,000 unlimited jobs as the baseline.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import run

SECTION = "## Concurrency controls"
REMAINING = (
    "SELECT (SELECT count(*) FROM solidq_ready_executions)"
    " + (SELECT count(*) FROM solidq_claimed_executions)"
    " + (SELECT count(*) FROM solidq_blocked_executions)"
)
SCENARIOS = [  # name, task, jobs, keys
    ("unlimited (baseline)", "free", 10_000, 10_000),
    ("hot key, to=1", "hot", 1_000, 1),
    ("100 keys, to=2", "many", 10_000, 100),
]


def drain(side: run.Ours, task: str, n: int, keys: int, timeout: float) -> dict[str, Any]:
    side.reset()
    side.client("enqueue-limited", task, n, "--keys", keys, timeout=300)
    side.conn.execute("ANALYZE")
    began = time.time()
    started = side.start_workers(2, 10)
    try:
        run.wait_for(lambda: side.scalar(REMAINING) == 0, timeout, f"{task} drain")
        error = side.died(started)
    finally:
        side.stop(started)
    times = [r[0] for r in side.conn.execute(side.finished_times_sql)]
    peak = side.scalar("SELECT coalesce(max(value), 0) FROM solidq_semaphores")
    result = {"n": n, "keys": keys, "done": len(times), "error": error}
    if times:
        result["seconds"] = times[-1] - began
        result["rate"] = len(times) / result["seconds"]
        low, high = int(0.1 * len(times)), int(0.9 * len(times)) - 1
        if high > low and times[high] > times[low]:
            result["steady_rate"] = (high - low) / (times[high] - times[low])
    result["semaphore_max_value_left"] = peak
    return result


def table(results: list[tuple[str, dict[str, Any]]]) -> str:
    lines = [
        "| scenario | jobs | keys | start → all done | rate | steady rate |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results:
        if r.get("error") or r["done"] < r["n"]:
            lines.append(f"| {name} | {r['n']:,} | {r['keys']:,} | FAILED: {r.get('error')} | | |")
            continue
        steady = f"{r['steady_rate']:,.0f}/s" if "steady_rate" in r else "n/a"
        lines.append(
            f"| {name} | {r['n']:,} | {r['keys']:,} | {r['seconds']:.2f} s | "
            f"{r['rate']:,.0f}/s | {steady} |"
        )
    return "\n".join(lines)


def write_section(body: str) -> None:
    text = run.DOC.read_text()
    start = text.find(SECTION)
    if start != -1:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + (text[end + 1 :] if end != -1 else "")
    run.DOC.write_text(text.rstrip() + "\n\n" + body + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of the jobs; prints only")
    parser.add_argument("--timeout", type=float, default=240.0)
    ns = parser.parse_args()
    run.ensure_interpreter(__file__)
    procs = run.Procs(Path(tempfile.mkdtemp(prefix="solidq-concurrency-bench-")))
    side = run.Ours(Path(sys.executable), procs)
    results = []
    with run.cleanup(procs):
        side.setup(synchronous_commit=True)
        try:
            for name, task, n, keys in SCENARIOS:
                n = n // 10 if ns.quick else n
                results.append((name, drain(side, task, n, min(keys, n), ns.timeout)))
                print(name, results[-1], flush=True)
        finally:
            side.close()
            run.drop_database(side.db)
    body = "\n".join(
        [
            SECTION,
            "",
            f"`python benchmarks/concurrency.py`, {datetime.date.today()}, PostgreSQL, "
            "`runjobs` with 2 worker processes x 10 threads, no-op jobs enqueued with "
            "`enqueue_all` before the workers start. What a limit costs: each limited job "
            "takes and gives back a permit (row-locked semaphore updates) and a blocked job "
            "is moved to ready by the release of the job before it.",
            "",
            table(results),
        ]
    )
    print(body)
    if not ns.quick:
        write_section(body)
    return 0 if all(not r.get("error") and r["done"] == r["n"] for _, r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
