#!/usr/bin/env python3
"""Mission Control (the admin) against a big queue: every page timed on PostgreSQL with
1,000,000 finished and 100,000 failed jobs (plus pending, scheduled, running and blocked ones).

    python benchmarks/admin_pages.py               # full size; writes docs/benchmarks.md
    python benchmarks/admin_pages.py --scale 0.1   # a tenth of the rows, prints only
    python benchmarks/admin_pages.py --keep        # leave the database behind

It creates the database ``solidq_admin_bench`` on 127.0.0.1:5432 (user postgres;
``ADMIN_BENCH_DB_NAME``, ``BENCH_PG_HOST``, ``BENCH_PG_PORT``, ``BENCH_PG_USER``), migrates it,
loads the rows with set-based SQL (``generate_series``), ``VACUUM ANALYZE``s, logs a superuser
in with Django's test ``Client`` and requests each page: once to warm up, then 5 timed
requests (the median is reported), then once more under ``CaptureQueriesContext`` for the
number of SQL statements and the slowest one. Action confirmation pages are POSTs without
``post=yes`` (what the admin shows before acting); one capped bulk action (retry of "all
matching" failed jobs) is then executed once and timed on its own. Pages over the limit get
their slowest statement ``EXPLAIN (ANALYZE, BUFFERS)``ed into ``--explain-file``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.run import ensure_interpreter  # noqa: E402

DOC = REPO / "docs" / "benchmarks.md"
DB_NAME = os.environ.get("ADMIN_BENCH_DB_NAME", "solidq_admin_bench")
PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("BENCH_PG_PORT", "5432")
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
LIMIT_MS = 300.0
REPEAT = 5
SECTION = "## Admin pages (1,000,000 finished + 100,000 failed jobs)"
START = "<!-- admin-pages:start (written by benchmarks/admin_pages.py) -->"
END = "<!-- admin-pages:end -->"

TASKS = [
    "app.tasks.send_email",
    "app.tasks.resize_image",
    "app.tasks.sync_account",
    "app.tasks.build_report",
    "app.tasks.charge_card",
]
QUEUES = ["default", "mail", "media", "billing"]
EXCEPTIONS = [
    "builtins.ValueError",
    "builtins.TimeoutError",
    "builtins.KeyError",
    "app.errors.PaymentDeclined",
    "requests.exceptions.ConnectionError",
    "django_solidq.exceptions.ProcessExitError",
]


# -- interpreter and database ---------------------------------------------------------------


def pg_connect(dbname: str) -> Any:
    import psycopg

    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=dbname, autocommit=True)


def _check_name(name: str) -> None:
    if name.startswith("test") or not name.endswith("bench"):
        raise SystemExit(f"Refusing to drop database {name!r}: its name must end with 'bench'.")


def recreate_database(name: str) -> None:
    _check_name(name)
    with pg_connect("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    _check_name(name)
    from django.db import connections

    connections.close_all()
    with pg_connect("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.admin_settings"
    os.environ["BENCH_DB_NAME"] = DB_NAME
    import warnings

    import django

    # django-admin-interface's language chooser wants LocaleMiddleware; not used here.
    warnings.filterwarnings("ignore", message="Language chooser")
    django.setup()


def migrate() -> list[str]:
    """Migrate; then add any index the models declare that the migrations do not create yet
    (so the pages are measured against the schema the models describe). Returns those."""
    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    added = []
    with connection.cursor() as cursor:
        for model in apps.get_app_config("django_solidq").get_models():
            existing = connection.introspection.get_constraints(cursor, model._meta.db_table)
            for index in model._meta.indexes:
                if index.name not in existing:
                    with connection.schema_editor() as editor:
                        editor.add_index(model, index)
                    added.append(f"{model._meta.db_table}.{index.name}")
    return added


# -- data -----------------------------------------------------------------------------------


def _array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]::text[]"


JOB_COLUMNS = (
    "id, backend, task_path, queue_name, priority, args, kwargs, concurrency_key, unique_key, "
    "scheduled_at, enqueued_at, started_at, last_attempted_at, finished_at, discarded_at, "
    "return_value, errors, worker_ids, exception_executions"
)
TASK = f"({_array(TASKS)})[1 + i % {len(TASKS)}]"
QUEUE = f"({_array(QUEUES)})[1 + (i / 7) % {len(QUEUES)}]"
ARGS = "jsonb_build_array(i, 'order-' || i)"
KWARGS = "jsonb_build_object('email', 'user' || i || '@example.com')"
WORKER = "'host-' || (1 + i % 3) || ':worker-' || (1 + i % 2)"


def _error(cls: str, at: str, number: str) -> str:
    """One ``errors`` entry, as django_solidq.errors.exception_entry writes it."""
    frames = (
        "'Traceback (most recent call last):' || chr(10) || "
        "repeat('  File \"/srv/app/app/tasks.py\", line 42, in run' || chr(10) || "
        "'    result = client.call(payload, timeout=timeout)' || chr(10), 12)"
    )
    return (
        "jsonb_build_object("
        f"'exception_class_path', {cls}, "
        f"'message', 'attempt ' || {number} || ' of job ' || i || ' failed: upstream said no', "
        f"'traceback', {frames} || {cls} || ': attempt failed for job ' || i, "
        f"'at', to_char(({at}) AT TIME ZONE 'UTC', "
        '\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\'), '
        f"'worker_id', {WORKER})"
    )


def load_data(scale: float) -> dict[str, Any]:
    """Every row in a few set-based statements; returns the sizes and how long it took."""
    from django.db import connection

    n = {
        "finished": round(1_000_000 * scale),
        "failed": round(100_000 * scale),
        "ready": round(50_000 * scale),
        "scheduled": round(10_000 * scale),
        "blocked": max(10, round(2_000 * scale)),
        "claimed": 30,
    }
    exc = f"({_array(EXCEPTIONS)})[1 + (i / 3) % {len(EXCEPTIONS)}]"
    exc2 = f"({_array(EXCEPTIONS)})[1 + (i / 5 + 1) % {len(EXCEPTIONS)}]"
    statements = [
        # Finished over the last 7 days; 1 in 25 discarded (half of those after a failure).
        f"""INSERT INTO solidq_jobs ({JOB_COLUMNS})
        SELECT gen_random_uuid(), 'default', {TASK}, {QUEUE}, (i % 3) - 1, {ARGS}, {KWARGS},
          NULL, NULL, NULL, f - make_interval(secs => 2 + i % 60),
          f - make_interval(secs => (i % 40) * 0.05 + 0.01),
          f - make_interval(secs => (i % 40) * 0.05 + 0.01), f,
          CASE WHEN i % 25 = 0 THEN f END,
          CASE WHEN i % 25 <> 0 THEN jsonb_build_object('ok', true, 'n', i) END,
          CASE WHEN i % 50 = 0 THEN jsonb_build_array({_error(exc, "f", "1")})
               ELSE '[]'::jsonb END,
          jsonb_build_array({WORKER}), '{{}}'::jsonb
        FROM (SELECT i, now() - random() * interval '7 days' AS f
              FROM generate_series(1, {n["finished"]}) AS i) AS s""",
        # Failed for good over the last 7 days, 1 to 3 attempts each.
        f"""WITH j AS (
          INSERT INTO solidq_jobs ({JOB_COLUMNS})
          SELECT gen_random_uuid(), 'default', {TASK}, {QUEUE}, 0, {ARGS}, {KWARGS},
            NULL, NULL, NULL, f - interval '10 minutes', f - interval '9 minutes',
            f - interval '1 second', NULL, NULL, NULL,
            CASE WHEN i % 3 = 0
              THEN jsonb_build_array({_error(exc2, "f - interval '5 minutes'", "1")},
                                     {_error(exc, "f", "2")})
              ELSE jsonb_build_array({_error(exc, "f", "1")}) END,
            CASE WHEN i % 3 = 0 THEN jsonb_build_array({WORKER}, {WORKER})
              ELSE jsonb_build_array({WORKER}) END,
            '{{}}'::jsonb
          FROM (SELECT i, now() - random() * interval '7 days' AS f
                FROM generate_series(1, {n["failed"]}) AS i) AS s
          RETURNING id, task_path, queue_name, errors, last_attempted_at)
        INSERT INTO solidq_failed_executions
          (job_id, task_path, queue_name, exception_class, created_at)
        SELECT id, task_path, queue_name, errors -> -1 ->> 'exception_class_path',
          last_attempted_at + interval '1 second' FROM j""",
        # Pending, enqueued over the last hour.
        f"""WITH j AS (
          INSERT INTO solidq_jobs ({JOB_COLUMNS})
          SELECT gen_random_uuid(), 'default', {TASK}, {QUEUE}, (i % 5) - 2, {ARGS}, {KWARGS},
            NULL, NULL, NULL, now() - random() * interval '1 hour', NULL, NULL, NULL, NULL,
            NULL, '[]'::jsonb, '[]'::jsonb, '{{}}'::jsonb
          FROM generate_series(1, {n["ready"]}) AS i
          RETURNING id, queue_name, priority, enqueued_at)
        INSERT INTO solidq_ready_executions (job_id, queue_name, priority, created_at)
        SELECT id, queue_name, priority, enqueued_at FROM j""",
        # Scheduled for the next day.
        f"""WITH j AS (
          INSERT INTO solidq_jobs ({JOB_COLUMNS})
          SELECT gen_random_uuid(), 'default', {TASK}, {QUEUE}, 0, {ARGS}, {KWARGS},
            NULL, NULL, now() + random() * interval '1 day', now() - interval '1 hour',
            NULL, NULL, NULL, NULL, NULL, '[]'::jsonb, '[]'::jsonb, '{{}}'::jsonb
          FROM generate_series(1, {n["scheduled"]}) AS i
          RETURNING id, queue_name, priority, scheduled_at, enqueued_at)
        INSERT INTO solidq_scheduled_executions
          (job_id, queue_name, priority, scheduled_at, created_at)
        SELECT id, queue_name, priority, scheduled_at, enqueued_at FROM j""",
        # Blocked on 50 concurrency keys.
        f"""WITH j AS (
          INSERT INTO solidq_jobs ({JOB_COLUMNS})
          SELECT gen_random_uuid(), 'default', 'app.tasks.sync_account', 'default', 0, {ARGS},
            {KWARGS}, 'account-' || i % 50, NULL, NULL, now() - interval '2 minutes',
            NULL, NULL, NULL, NULL, NULL, '[]'::jsonb, '[]'::jsonb, '{{}}'::jsonb
          FROM generate_series(1, {n["blocked"]}) AS i
          RETURNING id, queue_name, priority, concurrency_key, enqueued_at)
        INSERT INTO solidq_blocked_executions
          (job_id, queue_name, priority, concurrency_key, expires_at, created_at)
        SELECT id, queue_name, priority, concurrency_key, now() + interval '5 minutes',
          enqueued_at FROM j""",
        # The processes: a supervisor, three workers (one stale), a dispatcher, a scheduler.
        """INSERT INTO solidq_processes
          (kind, name, pid, hostname, supervisor_id, metadata, last_heartbeat_at, created_at)
        VALUES ('supervisor', 'supervisor-1', 100, 'host-1', NULL, '{}', now(), now()),
          ('worker', 'worker-1', 101, 'host-1', NULL,
           '{"queues": ["default", "mail"], "threads": 10}', now(), now()),
          ('worker', 'worker-2', 102, 'host-1', NULL,
           '{"queues": ["*"], "threads": 10}', now(), now()),
          ('worker', 'worker-3', 103, 'host-2', NULL,
           '{"queues": ["media"], "threads": 5}', now() - interval '10 minutes', now()),
          ('dispatcher', 'dispatcher-1', 104, 'host-1', NULL, '{"batch_size": 500}', now(), now()),
          ('scheduler', 'scheduler-1', 105, 'host-1', NULL, '{}', now(), now())""",
        "UPDATE solidq_processes SET supervisor_id = "
        "(SELECT id FROM solidq_processes WHERE kind = 'supervisor') WHERE kind <> 'supervisor'",
        # Running: 10 jobs on each worker.
        f"""WITH j AS (
          INSERT INTO solidq_jobs ({JOB_COLUMNS})
          SELECT gen_random_uuid(), 'default', {TASK}, {QUEUE}, 0, {ARGS}, {KWARGS},
            NULL, NULL, NULL, now() - interval '3 minutes', NULL, NULL, NULL, NULL, NULL,
            '[]'::jsonb, '[]'::jsonb, '{{}}'::jsonb
          FROM generate_series(1, {n["claimed"]}) AS i
          RETURNING id)
        INSERT INTO solidq_claimed_executions (job_id, process_id, created_at)
        SELECT j.id, p.id, now() - interval '1 minute'
        FROM j JOIN solidq_processes AS p
          ON p.name = 'worker-' || (1 + abs(hashtext(j.id::text)) % 3)""",
        # Recurring tasks (static and dynamic) and a week of their ticks.
        """INSERT INTO solidq_recurring_tasks (key, schedule, task_path, command, args, kwargs,
          queue_name, priority, description, static, created_at, updated_at)
        VALUES ('nightly-report', '0 3 * * *', 'app.tasks.build_report', NULL, '[]', '{}',
                'default', 0, 'The nightly report', true, now(), now()),
          ('sync-accounts', '*/5 * * * *', 'app.tasks.sync_account', NULL, '["all"]', '{}',
           NULL, NULL, '', true, now(), now()),
          ('hourly-digest', 'every hour', 'app.tasks.send_email', NULL, '[]',
           '{"digest": true}', 'mail', 5, '', true, now(), now()),
          ('cleanup', '30 * * * *', NULL, 'clearsessions', '[]', '{}', NULL, NULL, '', true,
           now(), now()),
          ('customer-42-export', '0 * * * *', 'app.tasks.build_report', NULL, '[42]', '{}',
           'default', 0, '', false, now(), now())""",
        """INSERT INTO solidq_recurring_executions (task_key, run_at, job_id, created_at)
        SELECT 'sync-accounts', t, gen_random_uuid(), t
        FROM generate_series(date_trunc('hour', now()) - interval '7 days',
                             now(), interval '5 minutes') AS t""",
        """INSERT INTO solidq_recurring_executions (task_key, run_at, job_id, created_at)
        SELECT k, t, gen_random_uuid(), t
        FROM unnest(ARRAY['hourly-digest', 'cleanup', 'customer-42-export']) AS k,
             generate_series(date_trunc('hour', now()) - interval '7 days',
                             now(), interval '1 hour') AS t""",
    ]
    began = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
    inserted = time.perf_counter() - began
    conn = pg_connect(DB_NAME)
    try:
        conn.execute("VACUUM ANALYZE")
    finally:
        conn.close()
    return {"rows": n, "insert_s": inserted, "total_s": time.perf_counter() - began}


# -- pages ----------------------------------------------------------------------------------


def pick(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return str(row[0])


def pages() -> list[dict[str, Any]]:
    """(name, method, url, data) of every page: GETs, and action confirmations as POSTs."""
    jobs = "/admin/django_solidq/job/"
    failed_id = pick(
        "SELECT job_id FROM solidq_failed_executions f JOIN solidq_jobs j ON j.id = f.job_id "
        "WHERE jsonb_array_length(j.errors) = 2 ORDER BY f.id LIMIT 1"
    )
    finished_id = pick(
        "SELECT id FROM solidq_jobs WHERE finished_at IS NOT NULL AND discarded_at IS NULL "
        "ORDER BY finished_at DESC LIMIT 1"
    )
    worker_pk = pick("SELECT id FROM solidq_processes WHERE name = 'worker-1'")
    recurring_pk = pick("SELECT id FROM solidq_recurring_tasks WHERE key = 'sync-accounts'")
    some_failed = pick("SELECT job_id FROM solidq_failed_executions ORDER BY id LIMIT 1")
    some_ready = pick("SELECT job_id FROM solidq_ready_executions ORDER BY id LIMIT 1")
    some_scheduled = pick("SELECT job_id FROM solidq_scheduled_executions ORDER BY id LIMIT 1")
    midnight = datetime.datetime.now(datetime.UTC).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    today = {  # as the admin's date filter links them
        "status": "finished",
        "finished_at__gte": str(midnight),
        "finished_at__lt": str(midnight + datetime.timedelta(days=1)),
    }
    arg_text = "order-12345"  # one job of each kind has it in its arguments

    def get(name: str, url: str) -> dict[str, Any]:
        return {"name": name, "method": "GET", "url": url, "data": None}

    def confirm(name: str, url: str, action: str, one: str) -> dict[str, Any]:
        data = {"action": action, "select_across": "1", "index": "0", "_selected_action": [one]}
        return {"name": name, "method": "POST", "url": url, "data": data}

    return [
        get("admin index", "/admin/"),
        get("Solid Queue app index", "/admin/django_solidq/"),
        get("dashboard (3 h)", f"{jobs}dashboard/"),
        get("dashboard (24 h)", f"{jobs}dashboard/?hours=24"),
        get("jobs: all", jobs),
        get("jobs: pending", f"{jobs}?status=ready"),
        get("jobs: scheduled", f"{jobs}?status=scheduled"),
        get("jobs: in progress", f"{jobs}?status=claimed"),
        get("jobs: blocked", f"{jobs}?status=blocked"),
        get("jobs: failed", f"{jobs}?status=failed"),
        get("jobs: finished", f"{jobs}?status=finished"),
        get("jobs: discarded", f"{jobs}?status=discarded"),
        get("jobs: finished, page 100", f"{jobs}?status=finished&p=100"),
        get("jobs: task filter", f"{jobs}?task={TASKS[3]}"),
        get("jobs: finished + task", f"{jobs}?status=finished&task={TASKS[3]}"),
        get("jobs: failed + task", f"{jobs}?status=failed&task={TASKS[3]}"),
        get("jobs: queue filter", f"{jobs}?queue=billing"),
        get("jobs: finished + queue", f"{jobs}?status=finished&queue=billing"),
        get("jobs: pending + queue", f"{jobs}?status=ready&queue=billing"),
        get("jobs: exception filter", f"{jobs}?exception={EXCEPTIONS[3]}"),
        get("jobs: failed + exception", f"{jobs}?status=failed&exception={EXCEPTIONS[3]}"),
        get("jobs: in progress on a worker", f"{jobs}?status=claimed&process={worker_pk}"),
        get("jobs: finished today", f"{jobs}?{urlencode(today)}"),
        get("jobs: search job id", f"{jobs}?q={failed_id}"),
        get("jobs: search arguments", f"{jobs}?q={arg_text}"),
        get("jobs: failed + search arguments", f"{jobs}?status=failed&q={arg_text}"),
        get("job detail (failed, 2 attempts)", f"{jobs}{failed_id}/change/"),
        get("job detail (finished)", f"{jobs}{finished_id}/change/"),
        get("queues", f"{jobs}queues/"),
        get("clear queue: confirmation", f"{jobs}queues/clear/?queue=default"),
        get("workers", "/admin/django_solidq/process/"),
        get("worker detail", f"/admin/django_solidq/process/{worker_pk}/change/"),
        get("recurring tasks", "/admin/django_solidq/recurringtask/"),
        get("recurring task detail", f"/admin/django_solidq/recurringtask/{recurring_pk}/change/"),
        confirm("confirm: retry all failed", f"{jobs}?status=failed", "retry_jobs", some_failed),
        confirm(
            "confirm: discard all failed", f"{jobs}?status=failed", "discard_jobs", some_failed
        ),
        confirm("confirm: discard all pending", f"{jobs}?status=ready", "discard_jobs", some_ready),
        confirm("confirm: discard all jobs (no filter)", jobs, "discard_jobs", some_ready),
        confirm("confirm: retry all jobs (no filter)", jobs, "retry_jobs", some_failed),
        confirm(
            "confirm: run now all scheduled",
            f"{jobs}?status=scheduled",
            "run_jobs_now",
            some_scheduled,
        ),
    ]


def request(client: Any, page: dict[str, Any]) -> Any:
    if page["method"] == "GET":
        return client.get(page["url"])
    return client.post(page["url"], page["data"])


def measure(client: Any, page: dict[str, Any]) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = request(client, page)  # warm-up
    result: dict[str, Any] = {"name": page["name"], "status": response.status_code}
    if response.status_code != 200:
        result["error"] = f"HTTP {response.status_code}"
        return result
    times = []
    for _ in range(REPEAT):
        began = time.perf_counter()
        request(client, page)
        times.append((time.perf_counter() - began) * 1000)
    with CaptureQueriesContext(connection) as captured:
        began = time.perf_counter()
        response = request(client, page)
        captured_ms = (time.perf_counter() - began) * 1000
    queries = [(float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries]
    slowest = max(queries, default=(0.0, ""))
    result.update(
        median_ms=statistics.median(times),
        min_ms=min(times),
        max_ms=max(times),
        queries=len(queries),
        sql_ms=sum(t for t, _ in queries),
        captured_ms=captured_ms,
        slowest_ms=slowest[0],
        slowest_sql=slowest[1],
        bytes=len(response.content),
        shows=shown(response.content.decode()),
    )
    return result


def shown(html: str) -> str:
    """What the page shows, read from its HTML (a fast page must not be an empty one): a
    list's rows and its count, a confirmation's count, the queues page's queues."""
    import re

    from django.utils.html import strip_tags

    rows = html.count('class="action-select"')
    if rows:
        paginator = re.search(r'<nav class="paginator".*?</h2>(.*?)</nav>', html, re.S)
        lines = strip_tags(paginator.group(1)).split("\n") if paginator else []
        total = [line.strip() for line in lines if line.strip()]
        return f"{rows} rows of {total[-1] if total else '?'}"
    confirm = re.search(r'class="solidq-confirm-count"><strong>(.*?)</strong>', html, re.S)
    if confirm:
        return strip_tags(confirm.group(1)).strip()
    queues = html.count("data-queue=")
    return f"{queues} queues" if queues else ""


def explain(sql: str) -> str:
    conn = pg_connect(DB_NAME)
    try:
        rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql).fetchall()
    finally:
        conn.close()
    return "\n".join(row[0] for row in rows)


def run_bulk_action(client: Any) -> dict[str, Any]:
    """Execute "Retry" on all matching failed jobs once: one click, capped at BULK_LIMIT."""
    from django.contrib.messages import get_messages

    from django_solidq.admin.helpers import BULK_LIMIT
    from django_solidq.models import FailedExecution

    one = pick("SELECT job_id FROM solidq_failed_executions ORDER BY id LIMIT 1")
    before = FailedExecution.objects.count()
    data = {
        "action": "retry_jobs",
        "select_across": "1",
        "index": "0",
        "_selected_action": [one],
        "post": "yes",
    }
    began = time.perf_counter()
    response = client.post("/admin/django_solidq/job/?status=failed", data)
    seconds = time.perf_counter() - began
    after = FailedExecution.objects.count()
    return {
        "status": response.status_code,
        "seconds": seconds,
        "retried": before - after,
        "limit": BULK_LIMIT,
        "messages": [str(m) for m in get_messages(response.wsgi_request)],
    }


# -- calibration, machine, report -----------------------------------------------------------


def calibrate() -> dict[str, float]:
    """What this server does right now: a count(*) of the 1M-row jobs table (sequential and
    parallel scan), and one-row INSERT + COMMIT round trips on one connection."""
    conn = pg_connect(DB_NAME)
    try:
        timings = []
        for _ in range(3):
            began = time.perf_counter()
            conn.execute("SELECT count(*) FROM solidq_jobs").fetchone()
            timings.append((time.perf_counter() - began) * 1000)
        conn.execute("CREATE TABLE bench_calibration (id serial PRIMARY KEY, v int)")
        began = time.perf_counter()
        for i in range(300):
            conn.execute("INSERT INTO bench_calibration (v) VALUES (%s)", (i,))
        commits = 300 / (time.perf_counter() - began)
        conn.execute("DROP TABLE bench_calibration")
    finally:
        conn.close()
    return {"count_ms": statistics.median(timings), "commits": commits}


def machine_info() -> dict[str, str]:
    import django
    import psycopg

    def run(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"

    cpu = [ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model n")]
    conn = pg_connect("postgres")
    try:
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in ("server_version", "shared_buffers", "work_mem", "jit")
        }
    finally:
        conn.close()
    commit = run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = run(["git", "-C", str(REPO), "status", "--porcelain", "--", "django_solidq"])
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": run(["nproc"]),
        "cpu": cpu[0].split(":", 1)[1].strip() if cpu else "?",
        "memory": run(["free", "-h"]).splitlines()[1].split()[1] if run(["free", "-h"]) else "?",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "psycopg": psycopg.__version__,
        "postgres": settings["server_version"].split()[0],
        "pg_settings": ", ".join(f"{k} {v}" for k, v in settings.items() if k != "server_version"),
        "django_solidq": commit + (" plus uncommitted changes in django_solidq/" if dirty else ""),
    }


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def short_sql(sql: str, length: int = 170) -> str:
    """The gist of a statement: no column lists, no quotes, no ``solidq_`` prefixes, joins
    without their conditions, a capped count shown as ``count(≤ N) of`` its inner statement."""
    sql = re.sub(r"\s+", " ", sql).replace('"', "").replace("solidq_", "")
    count = re.match(r"SELECT COUNT\(\*\) FROM \((.*) LIMIT (\d+)\) subquery$", sql)
    if count:
        return short_sql(f"count(≤ {int(count.group(2)):,}) of {count.group(1)}", length)
    sql = re.sub(r"((?:LEFT OUTER|INNER) JOIN \S+)(?: \S+)? ON \([^()]*\)", r"\1", sql)
    sql = sql.replace("LEFT OUTER JOIN", "LEFT JOIN")
    for kind in ("SELECT ", "of SELECT "):
        at = sql.find(kind)
        if at == -1 or (kind == "SELECT " and at != 0):
            continue
        depth, begin = 0, at + len(kind)
        for i in range(begin, len(sql)):
            depth += {"(": 1, ")": -1}.get(sql[i], 0)
            if depth == 0 and sql.startswith(" FROM ", i):
                sql = sql[:begin] + "…" + sql[i:]
                break
    sql = sql.replace("|", "\\|").replace("`", "'")
    return sql if len(sql) <= length else sql[: length - 1] + "…"


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| page | shows | median ms (min-max of 5) | SQL statements | SQL ms | slowest statement |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['name']} | | FAILED: {r['error']} | | | |")
            continue
        over = " **over 300**" if r["median_ms"] > LIMIT_MS else ""
        lines.append(
            f"| {r['name']} | {r['shows']} | {r['median_ms']:,.0f}{over} "
            f"({r['min_ms']:,.0f}-{r['max_ms']:,.0f})"
            f" | {r['queries']} | {r['sql_ms']:,.0f} | {r['slowest_ms']:,.1f} ms: "
            f"`{short_sql(r['slowest_sql'])}` |"
        )
    return "\n".join(lines)


def render(
    info: dict[str, str],
    data: dict[str, Any],
    calibration: dict[str, float],
    results: list[dict[str, Any]],
    bulk: dict[str, Any],
    added: list[str],
    elapsed: float,
    command: str,
) -> str:
    rows = data["rows"]
    over = [r for r in results if r.get("median_ms", 1e9) > LIMIT_MS]
    verdict = (
        f"**every page under {LIMIT_MS:.0f} ms**"
        if not over
        else f"**{len(over)} of {len(results)} pages over {LIMIT_MS:.0f} ms**: "
        + ", ".join(r["name"] for r in over)
    )
    added_note = (
        f"\n* Indexes the models declare but the migrations do not create yet, added by the "
        f"script before loading: {', '.join(f'`{a}`' for a in added)}."
        if added
        else ""
    )
    messages = " ".join(bulk.get("messages", []))
    others = (
        ", ".join(f"{v:,} {k}" for k, v in rows.items() if k not in ("finished", "failed"))
        .replace("ready", "pending")
        .replace("claimed", "running")
    )
    return f"""{START}

Run on {info["date"]} with `{command}` ({elapsed:.0f} s in all; loading the rows took
{data["insert_s"]:.0f} s, {data["total_s"]:.0f} s with `VACUUM ANALYZE`).

* Machine: `nproc` = {info["nproc"]} ({info["cpu"]}), {info["memory"]} RAM, Linux
  {info["kernel"]}; 1-minute load average {info["load_before"]} before the timings,
  {info["load_after"]} after.
* PostgreSQL {info["postgres"]} on 127.0.0.1 ({info["pg_settings"]}); Python
  {info["python"]}, Django {info["django"]}, psycopg {info["psycopg"]}; django_solidq at
  {info["django_solidq"]}.
* Calibration, right before the timings: `SELECT count(*) FROM solidq_jobs`
  ({sum(rows.values()):,} rows) {calibration["count_ms"]:,.0f} ms; one-row INSERT + COMMIT
  {calibration["commits"]:,.0f}/s on one connection.
* Rows: {rows["finished"]:,} finished jobs (1 in 25 discarded, 1 in 50 with an error entry),
  {rows["failed"]:,} failed (1 to 2 error entries each); also {others}; 6 processes, 5
  recurring tasks with a week of ticks.{added_note}

Verdict: {verdict}.

Each page: Django's test `Client`, logged in as a superuser, in the benchmark's process
(request → view → SQL → template → response; no network, no browser). One warm-up request,
then {REPEAT} timed ones; *SQL statements* and *SQL ms* from one more request under
`CaptureQueriesContext`, with its slowest statement (shortened: tables without their
`solidq_` prefix, joins without their conditions; `count(≤ N) of` is a capped count).
*confirm:* rows are the confirmation page of an action on "all matching" jobs of the list (a
POST without `post=yes`; nothing is changed).

{table(results)}

Executed once: **Retry** of all matching failed jobs (one click, capped at {bulk["limit"]:,}):
retried {bulk["retried"]:,} jobs in {bulk["seconds"]:.2f} s (HTTP {bulk["status"]}; messages:
"{messages}").

{END}"""


def write_doc(block: str) -> None:
    """Replace this script's block of docs/benchmarks.md, or append the section with it."""
    text = DOC.read_text()
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    if pattern.search(text):
        DOC.write_text(pattern.sub(lambda _: block, text))
    else:
        intro = (
            "`python benchmarks/admin_pages.py` times every Mission Control page (the admin) "
            "against PostgreSQL with 1,000,000 finished and 100,000 failed jobs; the target "
            f"(issue 7): every page under {LIMIT_MS:.0f} ms."
        )
        DOC.write_text(text.rstrip() + f"\n\n{SECTION}\n\n{intro}\n\n{block}\n")


# -- main -----------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the rows (1.0)")
    parser.add_argument("--keep", action="store_true", help="leave the database behind")
    parser.add_argument(
        "--reuse", action="store_true", help="time a database left by --keep (no reload)"
    )
    parser.add_argument(
        "--only", help="time only pages whose name contains one of these (comma-separated) texts"
    )
    parser.add_argument(
        "--explain-file",
        type=Path,
        default=Path(tempfile.gettempdir()) / "admin_pages_explain.txt",
        help="EXPLAIN ANALYZE of the slowest statement of each page over the limit",
    )
    parser.add_argument("--no-bulk", action="store_true", help="do not execute the bulk action")
    docs = parser.add_mutually_exclusive_group()
    docs.add_argument("--write-docs", dest="write_docs", action="store_true", default=None)
    docs.add_argument("--no-write-docs", dest="write_docs", action="store_false")
    ns = parser.parse_args()
    if ns.write_docs is None:
        ns.write_docs = ns.scale == 1.0 and not (ns.only or ns.no_bulk or ns.reuse)
    return ns


def main() -> None:
    ensure_interpreter(__file__, ("django", "psycopg", "admin_interface", "django_solidq"))
    ns = parse_args()
    started = time.perf_counter()
    if not ns.reuse:
        recreate_database(DB_NAME)
    setup_django()
    try:
        run(ns, started)
    finally:
        if not ns.keep:
            drop_database(DB_NAME)
            print(f"Dropped {DB_NAME} (--keep keeps it).")


def run(ns: argparse.Namespace, started: float) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    added = migrate()
    for name in added:
        print(f"note: added index {name} (declared by the models, not created by migrations)")
    if ns.reuse:
        data = {"rows": {}, "insert_s": 0.0, "total_s": 0.0}
    else:
        print(f"Loading rows (scale {ns.scale:g}) ...", flush=True)
        data = load_data(ns.scale)
        print(f"  {data['rows']} in {data['total_s']:.1f} s (with VACUUM ANALYZE)", flush=True)
    calibration = calibrate()
    print(
        f"Calibration: count(*) of solidq_jobs {calibration['count_ms']:.0f} ms; "
        f"INSERT+COMMIT {calibration['commits']:.0f}/s; load {loadavg()}",
        flush=True,
    )
    user_model = get_user_model()
    user = user_model.objects.filter(username="bench").first()
    if user is None:
        user = user_model.objects.create_superuser("bench", "bench@example.com", "bench")
    client = Client()
    client.force_login(user)
    info = machine_info()
    info["load_before"] = loadavg()
    results = []
    for page in pages():
        if ns.only and not any(part in page["name"] for part in ns.only.split(",")):
            continue
        result = measure(client, page)
        results.append(result)
        if "error" in result:
            print(f"{page['name']:<42} FAILED {result['error']}", flush=True)
            continue
        flag = "  OVER" if result["median_ms"] > LIMIT_MS else ""
        print(
            f"{page['name']:<42} {result['median_ms']:8.1f} ms  {result['queries']:3d} q  "
            f"sql {result['sql_ms']:7.1f} ms  slowest {result['slowest_ms']:7.1f} ms  "
            f"{result['shows']}{flag}",
            flush=True,
        )
    info["load_after"] = loadavg()
    over = [r for r in results if r.get("median_ms", 0) > LIMIT_MS]
    if over:
        with ns.explain_file.open("w") as out:
            for r in over:
                out.write(f"=== {r['name']} ({r['median_ms']:.0f} ms)\n{r['slowest_sql']}\n\n")
                out.write(explain(r["slowest_sql"]) + "\n\n")
        print(f"EXPLAIN ANALYZE of the slowest statements over the limit: {ns.explain_file}")
    bulk: dict[str, Any] = {"limit": 0, "retried": 0, "seconds": 0.0, "status": "not run"}
    if not ns.no_bulk:
        bulk = run_bulk_action(client)
        print(
            f"Executed once: retry all failed (capped at {bulk['limit']}): {bulk['retried']} "
            f"retried in {bulk['seconds']:.2f} s; {bulk['messages']}"
        )
    elapsed = time.perf_counter() - started
    command = "python benchmarks/admin_pages.py" + (
        f" --scale {ns.scale:g}" if ns.scale != 1.0 else ""
    )
    print()
    print(table(results))
    if ns.write_docs:
        write_doc(render(info, data, calibration, results, bulk, added, elapsed, command))
        print(f"\nWrote {DOC.relative_to(REPO)}.")


if __name__ == "__main__":
    main()
