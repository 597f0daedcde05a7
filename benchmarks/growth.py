#!/usr/bin/env python3
"""Does a job cost more as history grows? Enqueue, claim, finish and the dispatcher's poll
with 0, 100k and 1M finished jobs, then 1M finished + 100k scheduled, on PostgreSQL.

    python benchmarks/growth.py            # ~10 min; writes its block of docs/benchmarks.md
    python benchmarks/growth.py --scale 0.1 --no-write-docs   # 10x smaller, prints only

Runs in-process (Django + django_solidq from this checkout) against the database
``solidq_bench_growth`` (``BENCH_GROWTH_DB``; re-created here, dropped at the end unless
``--keep``), on 127.0.0.1:5432 as user postgres (``BENCH_PG_*``). History rows are loaded with
``INSERT ... SELECT generate_series``, then ``VACUUM ANALYZE`` (what autovacuum would do
eventually; see docs/benchmarks.md on autovacuum). At each stage, timed one call at a time on
one connection, as a worker does them:

* enqueue: ``task.enqueue()`` (one job, autocommit);
* claim 1 / claim 25: ``ReadyExecution.objects.claim(["*"], k, process_id)`` from 3,000 ready jobs;
* finish 1 / finish 25: ``ClaimedExecution.objects.finish_all`` of what was just claimed;
* dispatch poll: ``ScheduledExecution.objects.dispatch_next_batch(500)`` with nothing due.

Each statement those calls send is ``EXPLAIN (ANALYZE, BUFFERS)``ed (in a transaction rolled
back) at the first and last stage; the plans go into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import run  # noqa: E402

DOC = REPO / "docs" / "benchmarks.md"
START = "<!-- growth:start (written by benchmarks/growth.py) -->"
END = "<!-- growth:end -->"
DB = os.environ.get("BENCH_GROWTH_DB", "solidq_bench_growth")
JOB_COLUMNS = (
    "id, backend, task_path, queue_name, priority, args, kwargs, concurrency_key, unique_key, "
    "scheduled_at, enqueued_at, started_at, last_attempted_at, finished_at, discarded_at, "
    "return_value, errors, worker_ids, exception_executions"
)
TASK = "'benchmarks.peers.django_tasks.line'"
READY = 3000  # ready jobs at each stage's claim measurements
REPEAT = 300  # single calls timed per measurement
WORKER_ID = "growth-host:worker-1"


def load_finished(conn: Any, first: int, last: int) -> None:
    """Finished jobs ``first..last`` over the last 7 days (as a busy site's history)."""
    conn.execute(
        f"""INSERT INTO solidq_jobs ({JOB_COLUMNS})
        SELECT gen_random_uuid(), 'default', {TASK}, 'default', 0, '[]'::jsonb,
          jsonb_build_object('tag', 'job-' || i), NULL, NULL, NULL,
          f - interval '2 seconds', f - interval '10 ms', f - interval '10 ms', f, NULL,
          'null'::jsonb, '[]'::jsonb, jsonb_build_array('host-1:worker-' || (i % 4)), '{{}}'::jsonb
        FROM (SELECT i, now() - random() * interval '7 days' AS f
              FROM generate_series({first}, {last}) AS i) AS s"""
    )


def load_scheduled(conn: Any, n: int) -> None:
    """Jobs scheduled over the next day (none due while we measure)."""
    conn.execute(
        f"""WITH j AS (
          INSERT INTO solidq_jobs ({JOB_COLUMNS})
          SELECT gen_random_uuid(), 'default', {TASK}, 'default', 0, '[]'::jsonb, '{{}}'::jsonb,
            NULL, NULL, now() + interval '1 hour' + random() * interval '1 day', now(), NULL,
            NULL, NULL, NULL, NULL, '[]'::jsonb, '[]'::jsonb, '{{}}'::jsonb
          FROM generate_series(1, {n}) AS i
          RETURNING id, queue_name, priority, scheduled_at, enqueued_at)
        INSERT INTO solidq_scheduled_executions
          (job_id, queue_name, priority, scheduled_at, created_at)
        SELECT id, queue_name, priority, scheduled_at, enqueued_at FROM j"""
    )


def clear_unfinished(conn: Any) -> None:
    """Drop what earlier measurements left ready or claimed (scheduled jobs stay)."""
    conn.execute("DELETE FROM solidq_ready_executions")
    conn.execute("DELETE FROM solidq_claimed_executions")
    conn.execute(
        "DELETE FROM solidq_jobs j WHERE finished_at IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM solidq_scheduled_executions s WHERE s.job_id = j.id)"
    )


def timed(fn: Callable[[], Any], n: int) -> dict[str, float]:
    """Milliseconds per call: median, p95 and mean of n calls."""
    ms = []
    for _ in range(n):
        began = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - began) * 1000)
    ms.sort()
    return {"median": statistics.median(ms), "p95": ms[int(0.95 * (n - 1))], "mean": sum(ms) / n}


def measure() -> tuple[dict[str, dict[str, float]], dict[str, list[str]]]:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    import django_solidq
    from benchmarks.peers.django_tasks import line
    from django_solidq.models import ClaimedExecution, Process, ReadyExecution, ScheduledExecution

    process = Process.objects.register("worker", "growth")
    out: dict[str, dict[str, float]] = {}
    statements: dict[str, list[str]] = {}

    def capture(name: str, fn: Callable[[], Any]) -> None:
        """The statements of one call, made in a transaction rolled back (so that EXPLAIN
        ANALYZE can replay them on the same rows)."""
        with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
            fn()
            transaction.set_rollback(True)
        statements[name] = [
            q["sql"]
            for q in ctx.captured_queries
            if re.match(r"\s*(WITH|SELECT|INSERT|UPDATE|DELETE)", q["sql"], re.I)
        ]

    for _ in range(20):
        line.enqueue()  # warm-up
    out["enqueue"] = timed(line.enqueue, REPEAT)
    capture("enqueue", line.enqueue)
    django_solidq.enqueue_all([line.bind() for _ in range(READY)])
    claimed: list[Any] = []

    def claim(k: int) -> None:
        claimed.extend(ReadyExecution.objects.claim(["*"], k, process.id))

    def finish(k: int) -> None:
        batch = [(claimed.pop(), None) for _ in range(k)]
        ClaimedExecution.objects.finish_all(batch, WORKER_ID, True)

    out["claim 1"] = timed(lambda: claim(1), REPEAT)
    out["finish 1"] = timed(lambda: finish(1), REPEAT)
    out["claim 25"] = timed(lambda: claim(25), 40)
    out["finish 25"] = timed(lambda: finish(25), 40)
    capture("claim 1", lambda: ReadyExecution.objects.claim(["*"], 1, process.id))
    claim(1)
    capture("finish 1", lambda: finish(1))
    out["dispatch poll"] = timed(lambda: ScheduledExecution.objects.dispatch_next_batch(500), 100)
    capture("dispatch poll", lambda: ScheduledExecution.objects.dispatch_next_batch(500))
    plans = {name: [explain_analyze(sql) for sql in sqls] for name, sqls in statements.items()}
    process.delete()
    return out, plans


def explain_analyze(sql: str) -> str:
    """The plan of one statement as it ran, in a transaction that is rolled back."""
    from django.db import connection, transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return f"{shorten(sql)}\n\n{plan}"


def shorten(sql: str, limit: int = 600) -> str:
    sql = re.sub(r"\s+", " ", sql)
    sql = re.sub(r"'(\{[^']{60,}|\[[^']{60,})'", "'…'", sql)
    return sql if len(sql) <= limit else sql[:limit] + " …"


def table_sizes(conn: Any) -> dict[str, str]:
    rows = conn.execute(
        "SELECT relname, n_live_tup, pg_size_pretty(pg_total_relation_size(relid)) "
        "FROM pg_stat_user_tables WHERE relname LIKE 'solidq%' AND n_live_tup > 0 ORDER BY 1"
    )
    return {r[0]: f"{r[1]:,} rows, {r[2]}" for r in rows}


def server_ms(plan_texts: list[str]) -> float:
    """The sum of the statements' ``Execution Time`` lines (server-side, no round trip)."""
    return sum(
        float(m) for text in plan_texts for m in re.findall(r"Execution Time: ([\d.]+)", text)
    )


def render(stages: list[dict[str, Any]], info: dict[str, str]) -> str:
    names = list(stages[0]["timings"])
    labels = " | ".join(s["label"] for s in stages)
    lines = [
        f"| operation | {labels} | full / empty |",
        "| --- |" + " --- |" * (len(stages) + 1),
    ]
    worst = []
    full = stages[-2]  # the largest history; stages[0] and stages[-1] are the empty ones
    for name in names:
        cells = [f"{s['timings'][name]['median']:.2f}" for s in stages]
        empty = (stages[0]["timings"][name]["median"] + stages[-1]["timings"][name]["median"]) / 2
        change = full["timings"][name]["median"] / empty
        worst.append((change, name))
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {change:.2f} |")
    lines.append(
        f"| *server time of the same statements (EXPLAIN ANALYZE)* |{' |' * len(stages)} |"
    )
    for name in names:
        if name not in full["plans"]:
            continue
        cells = [f"{server_ms(s['plans'][name]):.3f}" for s in stages]
        empty = (server_ms(stages[0]["plans"][name]) + server_ms(stages[-1]["plans"][name])) / 2
        change = server_ms(full["plans"][name]) / empty if empty else 0.0
        lines.append(f"| {name} (server) | " + " | ".join(cells) + f" | {change:.2f} |")
    growth = max(worst)
    flat = [n for r, n in worst if r <= 1.10]
    verdict = (
        f"Per call, within 10 % of the empty history for {len(flat)} of {len(worst)} "
        f"operations; the largest change is {growth[1]} at {growth[0]:.2f}x."
    )
    plans = []
    for stage in (stages[0], full):
        for name, items in stage.get("plans", {}).items():
            for item in items:
                plans.append(f"**{name}, {stage['label']}**\n\n```text\n{item}\n```")
    sizes = "; ".join(f"{k}: {v}" for k, v in full["sizes"].items())
    return f"""{START}

Run on {info["date"]} with `{info["command"]}` ({info["elapsed"]}); PostgreSQL
{info["postgres"]}, 1-minute load average {info["load"]} (a shared 2-core machine: read the
ratios, which are from one run). Median milliseconds per call, each call on its own as a
worker makes it (claims and finishes of 1 job: {REPEAT} calls; of 25: 40 calls; dispatch
poll: 100), {info["commit_mode"]}. *full / empty*: the largest history against the mean
of the two empty stages (the first and the last, after emptying the tables).

{chr(10).join(lines)}

{verdict} The server's own time for the same statements (EXPLAIN ANALYZE, a few tenths of
a millisecond) is a small part of each call: the rest is the round trips, the commit and
Python, which do not depend on the history. Tables at the largest stage: {sizes}.

<details><summary>Query plans (EXPLAIN ANALYZE, BUFFERS) at the first and the last stage</summary>

{chr(10).join(plans)}

</details>

{END}"""


def write_doc(block: str) -> None:
    text = DOC.read_text()
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n## Growth\n\n" + block + "\n"
    DOC.write_text(text)


def main() -> int:
    run.ensure_interpreter(str(Path(__file__)))
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="history size factor")
    parser.add_argument("--keep", action="store_true", help="leave the database behind")
    parser.add_argument(
        "--sync-commit-on",
        action="store_true",
        help="wait for WAL flushes (default: synchronous_commit off for this database only, "
        "so that a slow shared disk's commit time does not drown the query cost)",
    )
    docs = parser.add_mutually_exclusive_group()
    docs.add_argument("--write-docs", dest="write_docs", action="store_true", default=None)
    docs.add_argument("--no-write-docs", dest="write_docs", action="store_false")
    ns = parser.parse_args()
    if ns.write_docs is None:
        ns.write_docs = ns.scale == 1.0
    if not DB.startswith("solidq_bench_"):
        sys.exit(f"refusing to drop {DB!r}: not a solidq_bench_* database")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="benchmarks.peers.django_settings",
        BENCH_SYSTEM="ours",
        BENCH_DB_NAME=DB,
        BENCH_OUT=os.devnull,
    )
    began = time.monotonic()
    run.recreate_database(DB)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    k100, m1, s100 = (round(x * ns.scale) for x in (100_000, 1_000_000, 100_000))
    plan = [
        ("empty", 0, 0),
        (f"{k100:,} finished", k100, 0),
        (f"{m1:,} finished", m1, 0),
        (f"{m1:,} finished + {s100:,} scheduled", m1, s100),
        ("empty again", -1, 0),  # emptied: how far the machine itself drifted meanwhile
    ]
    stages: list[dict[str, Any]] = []
    loaded = 0
    loads = []
    try:
        with run.pg_connect(DB) as conn:
            if not ns.sync_commit_on:
                conn.execute(f'ALTER DATABASE "{DB}" SET synchronous_commit = off')
            for label, finished, scheduled in plan:
                t0 = time.monotonic()
                clear_unfinished(conn)
                if finished < 0:
                    conn.execute("TRUNCATE solidq_jobs CASCADE")
                elif finished > loaded:
                    load_finished(conn, loaded + 1, finished)
                    loaded = finished
                if scheduled:
                    load_scheduled(conn, scheduled)
                conn.execute("VACUUM ANALYZE")
                loads.append(run.loadavg())
                print(f"{label}: loaded in {time.monotonic() - t0:.0f} s", flush=True)
                timings, plans = measure()
                stages.append(
                    {"label": label, "timings": timings, "plans": plans, "sizes": table_sizes(conn)}
                )
                print(
                    "  " + ", ".join(f"{k} {v['median']:.2f} ms" for k, v in timings.items()),
                    flush=True,
                )
            postgres = conn.execute("SHOW server_version").fetchone()[0]
    finally:
        from django.db import connections

        connections.close_all()
        if not ns.keep:
            run.drop_database(DB)
    info = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["python benchmarks/growth.py", *sys.argv[1:]]),
        "elapsed": f"{(time.monotonic() - began) / 60:.0f} min",
        "postgres": postgres,
        "load": f"{min(loads):.1f} to {max(loads):.1f}",
        "python": platform.python_version(),
        "commit_mode": (
            "commits waiting for the WAL flush"
            if ns.sync_commit_on
            else "`synchronous_commit = off` for this database (the query cost without the "
            "shared disk's fsync time)"
        ),
    }
    block = render(stages, info)
    print(block)
    if ns.write_docs:
        write_doc(block)
        print(f"Wrote {DOC.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
