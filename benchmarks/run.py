#!/usr/bin/env python3
"""django_solidq vs django-tasks-db on PostgreSQL: drain throughput, idle latency, enqueue
rates, worker memory and kill -9 recovery, side by side in one run.

    python benchmarks/run.py            # full run (~5 min), writes docs/benchmarks.md
    python benchmarks/run.py --quick    # ~1.5 min, prints the table only
    python benchmarks/run.py --only ours --profile
    python benchmarks/run.py --compare  # side by side with Celery, dj-queue, procrastinate, ...

Everything runs as real subprocesses against PostgreSQL on 127.0.0.1, in the databases
``solidq_bench`` and ``dtdb_bench`` (dropped and re-created here). django-tasks-db runs from its
own virtualenv (``benchmarks/.peers-venv``, or ``BENCH_PEER_VENV``), created here from PyPI
when missing. benchmarks/README.md says what each number means.
"""

from __future__ import annotations

import argparse
import atexit
import collections
import contextlib
import datetime
import importlib.util
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks import report  # noqa: E402

DOC = REPO / "docs" / "benchmarks.md"
PEER_VENV = Path(os.environ.get("BENCH_PEER_VENV", REPO / "benchmarks" / ".peers-venv"))
PEER_REQUIREMENT = "django-tasks-db==0.13.0"
PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("BENCH_PG_PORT", "5432")
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
OURS_DB = os.environ.get("BENCH_DB_NAME", "solidq_bench")
PEER_DB = os.environ.get("BENCH_PEER_DB_NAME", "dtdb_bench")
POLLING = 0.05  # seconds: our workers' polling_interval and the peer's --interval
POLL_EVERY = 0.1  # how often this script looks at a drain's progress


class BenchError(Exception):
    """A measurement that could not be made; reported as FAILED with this message."""


# -- interpreters ---------------------------------------------------------------------------


def _importable(modules: Sequence[str]) -> bool:
    return all(importlib.util.find_spec(name) is not None for name in modules)


def ensure_interpreter(
    script: str = __file__, modules: Sequence[str] = ("django", "psycopg", "django_solidq")
) -> None:
    """Re-run ``script`` under a Python that can import ``modules`` (``BENCH_PYTHON``,
    the repository's .venv from scripts/bootstrap)."""
    if _importable(modules):
        return
    here = Path(sys.executable).resolve()
    for candidate in (
        os.environ.get("BENCH_PYTHON"),
        str(REPO / ".venv/bin/python"),
    ):
        if candidate and Path(candidate).exists() and Path(candidate).resolve() != here:
            print(f"(re-running under {candidate})", flush=True)
            os.execv(candidate, [candidate, script, *sys.argv[1:]])
    sys.exit(
        f"No Python that imports {', '.join(modules)}: run scripts/bootstrap "
        "or set BENCH_PYTHON=/path/to/python."
    )


def ensure_peer_venv(django_version: str) -> Path:
    """django-tasks-db's virtualenv, with the same Django as ours and psycopg. From PyPI."""
    python = PEER_VENV / "bin" / "python"
    probe = "import django, django_tasks_db, psycopg"
    if python.exists() and subprocess.run([python, "-c", probe]).returncode == 0:
        return python
    print(f"Creating the peer virtualenv {PEER_VENV} (pip, from PyPI) ...", flush=True)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(PEER_VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if subprocess.run(
        [*pip, PEER_REQUIREMENT, "psycopg[binary]", f"Django=={django_version}"]
    ).returncode:
        print(f"  Django {django_version} not installable there; letting pip choose", flush=True)
        subprocess.run([*pip, PEER_REQUIREMENT, "psycopg[binary]"], check=True)
    subprocess.run([python, "-c", probe], check=True)
    return python


def ensure_py_spy() -> Path | None:
    """py-spy (for --profile), installed into the peer virtualenv from PyPI if missing."""
    found = PEER_VENV / "bin" / "py-spy"
    if not found.exists() and (PEER_VENV / "bin" / "python").exists():
        subprocess.run(
            [str(PEER_VENV / "bin/python"), "-m", "pip", "install", "--quiet", "py-spy"],
            check=False,
        )
    return found if found.exists() else None


# -- processes ------------------------------------------------------------------------------


class Procs:
    """Every subprocess we start, each in a process group of its own; all end on exit."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.live: list[subprocess.Popen[bytes]] = []
        self.logs: dict[int, Path] = {}
        self._counter = 0

    def start(self, cmd: list[str], env: dict[str, str], tag: str) -> subprocess.Popen[bytes]:
        self._counter += 1
        log = self.logdir / f"{self._counter:02d}-{tag}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.logs[proc.pid] = log
        self.live.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
        """TERM the process group (a graceful stop), wait, then KILL what is left of it."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
        deadline = time.monotonic() + 2.0
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        if proc in self.live:
            self.live.remove(proc)

    def stop_all(self) -> None:
        for proc in list(self.live):
            self.stop(proc, grace=3.0)

    def tail(self, proc: subprocess.Popen[bytes], lines: int = 6) -> str:
        try:
            text = self.logs[proc.pid].read_text(errors="replace")
        except (KeyError, OSError):
            return ""
        return " / ".join(text.strip().splitlines()[-lines:])


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def vm_hwm_kb(pid: int) -> int | None:
    """Peak resident set size (VmHWM) of a live process, in kB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, step: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle since boot (from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLOCK_TICKS


def loadavg() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return -1.0


# -- database -------------------------------------------------------------------------------


def pg_connect(dbname: str) -> Any:
    import psycopg

    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=dbname, autocommit=True)


def recreate_database(name: str) -> None:
    if name.startswith("test") or name in ("solidq", "postgres", "template0", "template1"):
        raise SystemExit(f"Refusing to drop database {name!r}: choose another benchmark database.")
    with pg_connect("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    with contextlib.suppress(Exception), pg_connect("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- the two systems ------------------------------------------------------------------------


class Side:
    """One system under test: how to enqueue, start workers and read progress."""

    key = ""
    label = ""
    settings = ""
    db = ""
    table_prefix = ""
    remaining_sql = ""  # jobs not finished yet (cheap: shrinks as the drain goes)
    finished_sql = ""
    finished_times_sql = ""
    failed_sql = ""

    def __init__(self, python: Path, procs: Procs) -> None:
        self.python = python
        self.procs = procs
        self.conn: Any = None

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SOLIDQ_", "BENCH_S"))}
        env.pop("VIRTUAL_ENV", None)
        env.update(PYTHONPATH=str(REPO), DJANGO_SETTINGS_MODULE=self.settings, **extra)
        return env

    def client(self, *args: Any, timeout: float = 120.0) -> dict[str, Any]:
        """Run benchmarks/client.py in this side's interpreter; its last line is JSON."""
        cmd = [str(self.python), "-m", "benchmarks.client", *map(str, args)]
        try:
            done = subprocess.run(
                cmd, cwd=REPO, env=self.env(), capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired as exc:
            raise BenchError(f"client {args[0]} timed out after {timeout:.0f} s") from exc
        lines = done.stdout.strip().splitlines()
        try:
            out = json.loads(lines[-1]) if lines else {}
        except json.JSONDecodeError:
            out = {}
        if done.returncode != 0 or not out or "error" in out:
            detail = out.get("error") or " / ".join(done.stderr.strip().splitlines()[-4:])
            raise BenchError(f"client {args[0]} failed: {detail}")
        return out

    def setup(self, synchronous_commit: bool) -> None:
        recreate_database(self.db)
        if not synchronous_commit:  # this database only; the server's setting is untouched
            with pg_connect("postgres") as conn:
                conn.execute(f'ALTER DATABASE "{self.db}" SET synchronous_commit = off')
        self.client("migrate", timeout=180)
        self.conn = pg_connect(self.db)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def scalar(self, sql: str, *params: Any) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def commit_rate(self, n: int = 300) -> dict[str, Any]:
        """Calibration: one-row INSERT + COMMIT round trips per second on one connection, raw
        psycopg: the ceiling for anything that waits for one durable commit at a time."""
        self.conn.execute("CREATE TABLE bench_calibration (id serial PRIMARY KEY, v int)")
        began = time.perf_counter()
        for i in range(n):
            self.conn.execute("INSERT INTO bench_calibration (v) VALUES (%s)", (i,))
        seconds = time.perf_counter() - began
        self.conn.execute("DROP TABLE bench_calibration")
        return {"n": n, "rate": n / seconds, "ms": seconds / n * 1000}

    def transactions(self) -> int:
        with pg_connect(self.db) as conn:
            row = conn.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
                (self.db,),
            ).fetchone()
        return int(row[0])

    def reset(self) -> None:
        like = self.table_prefix.replace("_", r"\_") + "%"
        tables = [
            row[0]
            for row in self.conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE %s",
                (like,),
            )
        ]
        if tables:
            names = ", ".join(f'"{t}"' for t in tables)
            self.conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")

    def backend_pids(self, poll: Any) -> list[int]:
        """PostgreSQL backends serving this database, except this script's connections."""
        mine = [self.conn.info.backend_pid, poll.info.backend_pid]
        rows = poll.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND NOT pid = ANY(%s)",
            (self.db, mine),
        )
        return [row[0] for row in rows]

    def cpu_snapshot(self, poll: Any, started: list[subprocess.Popen[bytes]]) -> dict[str, Any]:
        app = {pid: cpu_seconds(pid) for pid in self.app_pids(poll, started)}
        database = {pid: cpu_seconds(pid) for pid in self.backend_pids(poll)}
        return {"t": time.monotonic(), "app": app, "db": database, "busy": machine_busy_seconds()}

    def app_pids(self, poll: Any, started: list[subprocess.Popen[bytes]]) -> list[int]:
        return self.worker_pids(started)

    def start_workers(self, processes: int, threads: int) -> list[subprocess.Popen[bytes]]:
        raise NotImplementedError

    def worker_pids(self, started: list[subprocess.Popen[bytes]]) -> list[int]:
        raise NotImplementedError

    def workers_ready(self, started: list[subprocess.Popen[bytes]], processes: int) -> bool:
        raise NotImplementedError

    def died(self, started: list[subprocess.Popen[bytes]]) -> str | None:
        for proc in started:
            if proc.poll() is not None:
                return f"worker exited with status {proc.returncode}: {self.procs.tail(proc)}"
        return None

    def stop(self, started: list[subprocess.Popen[bytes]]) -> None:
        for proc in started:
            self.procs.stop(proc)


class Ours(Side):
    key = "ours"
    label = "django_solidq"
    settings = "benchmarks.settings"
    db = OURS_DB
    table_prefix = "solidq_"
    remaining_sql = (
        "SELECT (SELECT count(*) FROM solidq_ready_executions) "
        "+ (SELECT count(*) FROM solidq_claimed_executions)"
    )
    finished_sql = "SELECT count(*) FROM solidq_jobs WHERE finished_at IS NOT NULL"
    finished_times_sql = (
        "SELECT extract(epoch FROM finished_at)::float8 FROM solidq_jobs "
        "WHERE finished_at IS NOT NULL ORDER BY 1"
    )
    failed_sql = "SELECT count(*) FROM solidq_failed_executions"

    def env(self, **extra: str) -> dict[str, str]:
        return super().env(BENCH_DB_NAME=self.db, **extra)

    def start_workers(self, processes: int, threads: int) -> list[subprocess.Popen[bytes]]:
        worker = {"queues": ["*"], "threads": threads, "processes": processes}
        solidq = {"WORKERS": [{**worker, "polling_interval": POLLING}]}
        cmd = [str(self.python), "-m", "django", "runjobs"]
        env = self.env(BENCH_SOLIDQ=json.dumps(solidq))
        return [self.procs.start(cmd, env, f"runjobs-p{processes}-t{threads}")]

    def worker_pids(self, started: list[subprocess.Popen[bytes]]) -> list[int]:
        rows = self.conn.execute("SELECT pid FROM solidq_processes WHERE kind = 'worker'")
        return [row[0] for row in rows]

    def app_pids(self, poll: Any, started: list[subprocess.Popen[bytes]]) -> list[int]:
        """Every process of runjobs: supervisor, workers, dispatcher."""
        return [row[0] for row in poll.execute("SELECT pid FROM solidq_processes")]

    def workers_ready(self, started: list[subprocess.Popen[bytes]], processes: int) -> bool:
        count = self.scalar("SELECT count(*) FROM solidq_processes WHERE kind = 'worker'")
        return count >= processes


class Peer(Side):
    key = "peer"
    label = "django-tasks-db"
    settings = "benchmarks.peer_settings"
    db = PEER_DB
    table = "django_tasks_database_dbtaskresult"
    table_prefix = "django_tasks_database_"
    remaining_sql = f"SELECT count(*) FROM {table} WHERE status IN ('READY', 'RUNNING')"
    finished_sql = f"SELECT count(*) FROM {table} WHERE status IN ('SUCCESSFUL', 'FAILED')"
    finished_times_sql = (
        f"SELECT extract(epoch FROM finished_at)::float8 FROM {table} "
        "WHERE finished_at IS NOT NULL ORDER BY 1"
    )
    failed_sql = f"SELECT count(*) FROM {table} WHERE status = 'FAILED'"

    def env(self, **extra: str) -> dict[str, str]:
        return super().env(BENCH_PEER_DB_NAME=self.db, **extra)

    def start_workers(self, processes: int, threads: int = 1) -> list[subprocess.Popen[bytes]]:
        cmd = [str(self.python), "-m", "django", "db_worker", "--queue-name", "*"]
        cmd += ["--interval", str(POLLING), "--no-startup-delay", "--no-reload", "--verbosity", "0"]
        return [self.procs.start(cmd, self.env(), f"db_worker-{i}") for i in range(processes)]

    def worker_pids(self, started: list[subprocess.Popen[bytes]]) -> list[int]:
        return [proc.pid for proc in started if proc.poll() is None]

    def workers_ready(self, started: list[subprocess.Popen[bytes]], processes: int) -> bool:
        return all(proc.poll() is None for proc in started)  # db_worker registers nowhere

    def status(self, job_id: str) -> str | None:
        return self.scalar(f"SELECT status FROM {self.table} WHERE id = %s", job_id)


# -- measurements ---------------------------------------------------------------------------


def measure_drain(
    side: Side, n: int, processes: int, threads: int, timeout: float
) -> dict[str, Any]:
    """Fill the queue with n no-op jobs, start the workers, time until all n are finished."""
    side.reset()
    side.client("enqueue-bulk", n, "--setup")
    side.conn.execute("ANALYZE")
    tx_before = side.transactions()
    polls = 0
    started_at = time.time()
    started = side.start_workers(processes, threads)
    deadline = time.monotonic() + timeout
    error = None
    snapshots: dict[float, dict[str, Any]] = {}
    try:
        with pg_connect(side.db) as poll:  # its own connection: its transactions are counted
            while True:
                polls += 1
                remaining = poll.execute(side.remaining_sql).fetchone()[0]
                if remaining == 0:
                    break
                for mark in (0.1, 0.9):
                    if mark not in snapshots and n - remaining >= mark * n:
                        snapshots[mark] = {
                            **side.cpu_snapshot(poll, started),
                            "done": n - remaining,
                        }
                        polls += 2
                error = side.died(started)
                if error is None and time.monotonic() > deadline:
                    error = f"timed out after {timeout:.0f} s"
                if error:
                    break
                time.sleep(POLL_EVERY)
        rss = [vm_hwm_kb(pid) for pid in side.worker_pids(started)]
    finally:
        side.stop(started)
    time.sleep(1.0)  # the workers' statistics reach pg_stat_database as they exit
    transactions = side.transactions() - tx_before - polls
    times = [row[0] for row in side.conn.execute(side.finished_times_sql)]
    result: dict[str, Any] = {
        "n": n,
        "processes": processes,
        "threads": threads,
        "done": len(times),
        "failed_jobs": side.scalar(side.failed_sql),
        "rss_kb": [kb for kb in rss if kb],
        "commits_per_job": transactions / max(1, len(times)),
    }
    if error or len(times) < n:
        result.update(error=error or f"{len(times)}/{n} finished", partial=True)
    if times:
        result["first_done_s"] = times[0] - started_at
        result["total_s"] = times[-1] - started_at
        result["total_rate"] = len(times) / result["total_s"]
    # A drain cut short by the timeout: its steady rate is over the jobs that did finish.
    basis = n if len(times) >= n else len(times)
    low, high = int(0.1 * basis), int(0.9 * basis) - 1
    if len(times) > high > low and times[high] > times[low]:
        result["steady_rate"] = (high - low) / (times[high] - times[low])
    if 0.1 in snapshots and 0.9 in snapshots:
        result["cpu"] = cpu_per_job(snapshots[0.1], snapshots[0.9])
    return result


def cpu_per_job(a: dict[str, Any], b: dict[str, Any]) -> dict[str, float]:
    """CPU milliseconds per job between two snapshots: the system's processes, the database
    backends serving them, and everything else on the machine (other users' load)."""
    jobs = max(1, b["done"] - a["done"])

    def used(kind: str) -> float:
        return sum(
            (cpu or 0.0) - (a[kind].get(pid) or 0.0)
            for pid, cpu in b[kind].items()
            if cpu is not None
        )

    app, database = used("app"), used("db")
    wall = b["t"] - a["t"]
    return {
        "app_ms": app / jobs * 1000,
        "db_ms": database / jobs * 1000,
        "other_ms": max(0.0, b["busy"] - a["busy"] - app - database) / jobs * 1000,
        "cores_busy": (b["busy"] - a["busy"]) / wall if wall > 0 else 0.0,
    }


def measure_latency(side: Side, n: int, spacing: float) -> dict[str, Any]:
    side.reset()
    started = side.start_workers(1, 3)
    try:
        wait_for(lambda: side.died(started) or side.workers_ready(started, 1), 60, "the worker")
        if error := side.died(started):
            raise BenchError(error)
        time.sleep(0.5)  # idle
        out = side.client("latency", n, "--spacing", spacing, timeout=n * spacing + 90)
        if error := side.died(started):
            raise BenchError(error)
    finally:
        side.stop(started)
    return out


def measure_enqueue(side: Side, kind: str, n: int) -> dict[str, Any]:
    """One enqueue measurement, no worker running: ``single`` or ``bulk``."""
    side.reset()
    try:
        return side.client(f"enqueue-{kind}", n)
    finally:
        side.reset()


def run_enqueues(ready: list[Side], ns: argparse.Namespace, results: dict[str, Any]) -> None:
    """Each measurement ``--repeat`` times, the systems taking turns; the median is kept."""
    for kind, n in (("single", ns.single_n), ("bulk", ns.bulk_n)):
        rates: dict[str, list[float]] = {side.key: [] for side in ready}
        for _ in range(ns.repeat):
            for side in ready:
                out = results[side.key].setdefault("enqueue", {})
                if kind in out and "rates" not in out[kind]:
                    continue  # failed or unsupported: not again
                got = step(
                    f"{side.label}: enqueue {kind} x {n:,}",
                    lambda s=side: measure_enqueue(s, kind, n),  # noqa: B023
                )
                if "rate" in got:
                    rates[side.key].append(got["rate"])
                    out[kind] = {
                        "n": n,
                        "rates": rates[side.key],
                        "rate": statistics.median(rates[side.key]),
                    }
                else:
                    out[kind] = got


def measure_kill_ours(side: Ours, sleep_s: float = 3.0) -> dict[str, Any]:
    """kill -9 the worker running a job; time until the job is claimed (running) again."""
    side.reset()
    started = side.start_workers(1, 3)
    try:
        wait_for(lambda: side.died(started) or side.workers_ready(started, 1), 60, "the worker")
        if error := side.died(started):
            raise BenchError(error)
        time.sleep(1.5)  # a worker that has been up a while, not a fresh one in restart backoff
        job_id = side.client("enqueue-one", "sleeper", sleep_s)["id"]
        claim_sql = "SELECT id, process_id FROM solidq_claimed_executions WHERE job_id = %s"
        claim = wait_for(
            lambda: side.conn.execute(claim_sql, (job_id,)).fetchone(), 20, "the job to start"
        )
        pid = side.scalar("SELECT pid FROM solidq_processes WHERE id = %s", claim[1])
        if pid is None:
            raise BenchError("the claiming worker has no process row")
        time.sleep(0.3)  # well inside the job's sleep
        killed_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        ready_sql = "SELECT count(*) FROM solidq_ready_executions WHERE job_id = %s"
        ready_s, again = None, None
        deadline = killed_at + 30
        while again is None and time.monotonic() < deadline:
            if ready_s is None and side.scalar(ready_sql, job_id):
                ready_s = time.monotonic() - killed_at
            again = side.conn.execute(claim_sql + " AND id <> %s", (job_id, claim[0])).fetchone()
            if again is None:
                time.sleep(0.01)
        if again is None:
            raise BenchError("the job was not running again within 30 s of the kill")
        running_s = time.monotonic() - killed_at
        finished = wait_for(
            lambda: side.conn.execute(
                "SELECT errors::text FROM solidq_jobs WHERE id = %s AND finished_at IS NOT NULL",
                (job_id,),
            ).fetchone(),
            sleep_s + 15,
            "the re-run job to finish",
        )
    finally:
        side.stop(started)
    return {
        "ready_s": ready_s,
        "running_s": running_s,
        "killed_pid": pid,
        "finished": finished is not None,
        "lost_attempt_recorded": "ProcessExitError" in (finished[0] or ""),
    }


def check_kill_peer(side: Peer, sleep_s: float = 3.0, watch_s: float = 6.0) -> dict[str, Any]:
    """kill -9 a db_worker mid-task, start a fresh one, and see whether the task runs again."""
    side.reset()
    first = side.start_workers(1)
    second: list[subprocess.Popen[bytes]] = []
    try:
        time.sleep(1.0)
        if error := side.died(first):
            raise BenchError(error)
        job_id = side.client("enqueue-one", "sleeper", sleep_s)["id"]
        wait_for(lambda: side.status(job_id) == "RUNNING", 20, "the task to start")
        time.sleep(0.3)
        os.kill(first[0].pid, signal.SIGKILL)
        second = side.start_workers(1)
        time.sleep(watch_s)
        status = side.status(job_id)
    finally:
        side.stop(first + second)
    return {"status_after": status, "watched_s": watch_s}


def profile_drain(side: Ours, n: int, threads: int, seconds: float = 6.0) -> dict[str, Any]:
    """py-spy (CPU samples only) of one worker process, 1 process x ``threads``, mid-drain."""
    spy = ensure_py_spy()
    if spy is None:
        raise BenchError("py-spy is not available (pip install py-spy failed)")
    side.reset()
    side.client("enqueue-bulk", n, "--setup")
    side.conn.execute("ANALYZE")
    started = side.start_workers(1, threads)
    raw = side.procs.logdir / "worker.pyspy.raw"
    try:
        wait_for(lambda: side.died(started) or side.workers_ready(started, 1), 60, "the worker")
        pid = side.worker_pids(started)[0]
        time.sleep(0.5)
        cmd = [str(spy), "record", "-p", str(pid), "-d", str(int(seconds)), "--threads"]
        cmd += ["--nonblocking", "-r", "200", "-f", "raw", "-o", str(raw)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
        if done.returncode != 0 or not raw.exists():
            raise BenchError(f"py-spy failed: {done.stderr.strip()[-300:]}")
        remaining = side.scalar(side.remaining_sql)
    finally:
        side.stop(started)
    if not remaining:
        print("(the drain ended before the profile did: idle time is in it)", end=" ")
    return {"threads": threads, "text": summarize_profile(raw)}


WRAPPERS = ("manager_method", "inner", "_execute_with_wrappers", "decorator")


def summarize_profile(raw: Path, top: int = 16) -> str:
    """Share of a worker's CPU samples per thread, and per boundary "our function -> the
    library call it made" (self time of ours counts as "ours -> (self)"): the rows add up.
    A pool thread blocked in ThreadPoolExecutor's ``work_queue.get`` is not running (py-spy
    samples that wait as active): those samples are dropped."""
    threads: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        if not line.strip():
            continue
        stack, count_text = line.rsplit(" ", 1)
        frames, count = stack.split(";"), int(count_text)
        if frames[-1].startswith("_worker (") and "concurrent/futures/thread.py" in frames[-1]:
            continue
        total += count
        thread = frames[0].split(": ", 1)[-1]
        threads["solidq-job_* (pool)" if thread.startswith("solidq-job") else thread] += count
        ours = [i for i, frame in enumerate(frames) if "django_solidq" in frame]
        if not ours:
            calls["(outside django_solidq)"] += count
            continue
        last = ours[-1]
        below = [f.split(" (")[0] for f in frames[last + 1 :]]
        callee = next((name for name in below if name.split(".")[-1] not in WRAPPERS), "(self)")
        calls[f"{frames[last].split(' (')[0]} -> {callee}"] += count
    if not total:
        return "(no CPU samples)"
    lines = [f"{total} CPU samples of one worker process; by thread:"]
    lines += [f"  {c / total * 100:5.1f}%  {t}" for t, c in threads.most_common()]
    lines.append("by our function -> the library call it was in:")
    lines += [f"  {c / total * 100:5.1f}%  {f}" for f, c in calls.most_common(top)]
    return "\n".join(lines)


# -- running --------------------------------------------------------------------------------


def step(name: str, fn: Callable[[], Any]) -> Any:
    print(f"  {name} ...", end=" ", flush=True)
    began, load = time.monotonic(), loadavg()
    try:
        value = fn()
    except BenchError as exc:
        value = {"error": str(exc)}
    except Exception as exc:  # any failure is a FAILED measurement, not a crash
        value = {"error": f"{type(exc).__name__}: {exc}"}
    if isinstance(value, dict):
        value["load"] = [load, loadavg()]
    print(f"({time.monotonic() - began:.1f} s) {_short(value)}", flush=True)
    return value


def _short(value: Any) -> str:
    if not isinstance(value, dict):
        return str(value)
    keys = ("total_rate", "steady_rate", "commits_per_job", "p50_ms", "p95_ms", "rate")
    keys += ("running_s", "status_after", "error")
    parts = []
    for key, item in value.items():
        if key in keys:
            parts.append(f"{key}={item:,.2f}" if isinstance(item, float) else f"{key}={item}")
        elif isinstance(item, dict):
            parts.append(f"{key}: {_short(item)}")
    return " ".join(parts)


def drain_plan(sides: list[Side], ns: argparse.Namespace) -> list[tuple[Side, int, int, int]]:
    """(side, processes, threads, n) per drain, the two systems interleaved, so that a
    shared machine's changing load falls on both alike."""
    plan = []
    for processes in (1, 2):
        for side in sides:
            if isinstance(side, Ours):
                plan += [(side, processes, t, ns.drain_n) for t in ns.thread_counts]
            else:
                plan.append((side, processes, 1, ns.peer_drain_n))
    return plan


def run_drains(ready: list[Side], ns: argparse.Namespace, results: dict[str, Any]) -> None:
    for side, processes, threads, n in drain_plan(ready, ns):
        runs = results[side.key].setdefault("drain", {}).setdefault(str(processes), [])
        title = f"{side.label}: drain {n:,} no-ops, {processes} process(es)"
        title += f" x {threads} threads" if isinstance(side, Ours) else ""
        runs.append(
            step(
                title,
                lambda s=side, p=processes, t=threads, k=n: measure_drain(s, k, p, t, ns.timeout),
            )
        )


def run_kills(ready: list[Side], ns: argparse.Namespace, results: dict[str, Any]) -> None:
    for side in ready:
        if isinstance(side, Ours):
            results[side.key]["kill"] = step(
                f"{side.label}: kill -9 recovery", lambda s=side: measure_kill_ours(s)
            )
        elif isinstance(side, Peer) and not ns.quick:
            results[side.key]["kill"] = step(
                f"{side.label}: kill -9, does the task run again?",
                lambda s=side: check_kill_peer(s),
            )


def run_profile(ready: list[Side], ns: argparse.Namespace, results: dict[str, Any]) -> None:
    threads = max(ns.thread_counts)
    for side in ready:
        if isinstance(side, Ours):
            results[side.key]["profile"] = step(
                f"{side.label}: py-spy of a worker (1 process x {threads} threads)",
                lambda s=side: profile_drain(s, max(20000, ns.drain_n), threads),
            )


def run_all(sides: list[Side], ns: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    ready = []
    for side in sides:
        try:
            side.setup(synchronous_commit=not ns.sync_commit_off)
        except Exception as exc:
            print(f"{side.label}: set-up FAILED: {exc}", flush=True)
            results[side.key] = {"error": f"set-up failed: {exc}"}
            continue
        results[side.key] = {}
        ready.append(side)

    def phase(name: str, fn: Callable[[Side], Any]) -> None:
        for side in ready:
            results[side.key][name] = step(f"{side.label}: {name}", lambda s=side: fn(s))

    try:
        phase("calibration", lambda side: side.commit_rate())
        if "drain" not in ns.skip:
            run_drains(ready, ns, results)
        if "latency" not in ns.skip:
            phase("latency", lambda side: measure_latency(side, ns.latency_n, 0.02))
        if "enqueue" not in ns.skip:
            run_enqueues(ready, ns, results)
        if "kill" not in ns.skip:
            run_kills(ready, ns, results)
        if ns.profile:
            run_profile(ready, ns, results)
    finally:
        for side in ready:
            side.close()
            if not ns.keep_dbs:
                drop_database(side.db)
    return results


def machine_info(peer_python: Path | None, ns: argparse.Namespace) -> dict[str, str]:
    import django
    import psycopg

    def run(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.rstrip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"

    cpu = [ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model n")]
    info = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": run(["nproc"]),
        "cpu": cpu[0].split(":", 1)[1].strip() if cpu else "?",
        "free": run(["free", "-h"]),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "psycopg": psycopg.__version__,
    }
    with pg_connect("postgres") as conn:
        info["postgres"] = conn.execute("SHOW server_version").fetchone()[0]
        server = conn.execute("SHOW synchronous_commit").fetchone()[0]
    info["synchronous_commit"] = "off for the benchmark databases" if ns.sync_commit_off else server
    commit = run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = run(["git", "-C", str(REPO), "status", "--porcelain", "--", "django_solidq"])
    info["django_solidq"] = commit + (
        " plus uncommitted changes in django_solidq/" if dirty else ""
    )
    if peer_python is not None:
        probe = (
            "import sys, django, importlib.metadata as m; "
            "print(sys.version.split()[0], django.get_version(), m.version('django-tasks-db'))"
        )
        parts = run([str(peer_python), "-c", probe]).split()
        if len(parts) == 3:
            info["peer"] = f"django-tasks-db {parts[2]} (Python {parts[0]}, Django {parts[1]})"
    return info


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one thread count")
    parser.add_argument("--only", choices=["ours", "peer"], help="run one system only")
    parser.add_argument("-n", "--drain-n", type=int, help="no-op jobs per drain (ours)")
    parser.add_argument("--peer-drain-n", type=int, help="no-op jobs per drain (peer)")
    parser.add_argument("--threads", help="comma-separated thread counts to try (ours)")
    parser.add_argument("--latency-n", type=int, help="jobs in the latency test")
    parser.add_argument("--single-n", type=int, help="jobs in the single-enqueue loop")
    parser.add_argument("--bulk-n", type=int, help="jobs in one enqueue_all call")
    parser.add_argument("--repeat", type=int, help="repetitions of each enqueue measurement")
    parser.add_argument("--timeout", type=float, default=30.0, help="cap per drain (seconds)")
    parser.add_argument("--skip", default="", help="comma list of: drain,latency,enqueue,kill")
    parser.add_argument(
        "--profile", action="store_true", help="also py-spy one of our workers during a drain"
    )
    parser.add_argument(
        "--sync-commit-off",
        action="store_true",
        help="diagnostic: synchronous_commit = off on both benchmark databases (not the "
        "server), to separate waiting for WAL flushes from CPU cost",
    )
    parser.add_argument("--json", type=Path, help="also write the raw results to this file")
    parser.add_argument("--keep-dbs", action="store_true", help="leave the databases behind")
    docs = parser.add_mutually_exclusive_group()
    docs.add_argument(
        "--write-docs",
        dest="write_docs",
        action="store_true",
        default=None,
        help="write the table into docs/benchmarks.md (default: for full runs of both)",
    )
    docs.add_argument("--no-write-docs", dest="write_docs", action="store_false")
    ns = parser.parse_args()
    quick = ns.quick
    ns.drain_n = ns.drain_n or (2000 if quick else 6000)
    ns.peer_drain_n = ns.peer_drain_n or (1000 if quick else 3000)
    ns.thread_counts = [int(t) for t in (ns.threads or ("25" if quick else "3,10,25")).split(",")]
    ns.latency_n = ns.latency_n or (100 if quick else 200)
    ns.single_n = ns.single_n or (500 if quick else 1000)
    ns.bulk_n = ns.bulk_n or (5000 if quick else 20000)
    ns.repeat = ns.repeat or (1 if quick else 3)
    ns.skip = {s for s in ns.skip.split(",") if s}
    if ns.write_docs is None:
        ns.write_docs = not (quick or ns.only or ns.skip or ns.sync_commit_off)
    return ns


@contextlib.contextmanager
def cleanup(procs: Procs) -> Iterator[None]:
    """End every process we started, however this script ends (exceptions, TERM, HUP, ^C)."""

    def bail(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {s: signal.signal(s, bail) for s in (signal.SIGTERM, signal.SIGHUP)}
    atexit.register(procs.stop_all)
    try:
        yield
    finally:
        procs.stop_all()
        for s, handler in previous.items():
            signal.signal(s, handler)


def any_failed(value: Any) -> bool:
    """True if a measurement failed (a drain cut short by its timeout is a result, not a
    failure: it is reported with its note)."""
    if isinstance(value, dict):
        if "error" in value and not value.get("partial"):
            return True
        return any(any_failed(v) for v in value.values())
    if isinstance(value, list):
        return any(any_failed(v) for v in value)
    return False


def main() -> int:
    ensure_interpreter()
    if "--compare" in sys.argv[1:]:  # the side-by-side run with all peers: compare.py
        from benchmarks import compare

        return compare.main(sys.argv[1:])
    ns = parse_args()
    import django

    peer_python = None
    if ns.only != "ours":
        try:
            peer_python = ensure_peer_venv(django.get_version())
        except (subprocess.CalledProcessError, OSError) as exc:
            print(f"Peer virtualenv FAILED: {exc}", flush=True)
    info = machine_info(peer_python, ns)
    print(
        f"{info['date']}: {info['nproc']} cores, PostgreSQL {info['postgres']}, Python "
        f"{info['python']}, Django {info['django']}, load {loadavg():.1f}",
        flush=True,
    )
    logdir = Path(tempfile.mkdtemp(prefix="solidq-bench-"))
    procs = Procs(logdir)
    results: dict[str, Any] = {}
    began = time.monotonic()
    with cleanup(procs):
        sides: list[Side] = []
        if ns.only != "peer":
            sides.append(Ours(Path(sys.executable), procs))
        if ns.only != "ours":
            if peer_python is None:
                results["peer"] = {"error": "the peer's virtualenv could not be made"}
            else:
                sides.append(Peer(peer_python, procs))
        results.update(run_all(sides, ns))
    info["elapsed"] = f"{time.monotonic() - began:.0f} s"
    table = report.build_table(results)
    print("\n" + table)
    print(f"\n(total {info['elapsed']}; subprocess logs in {logdir})")
    if ns.json:
        ns.json.write_text(json.dumps({"info": info, "args": sys.argv[1:], "results": results}))
    if ns.write_docs:
        command = " ".join(["python benchmarks/run.py", *sys.argv[1:]])
        report.write_doc(DOC, report.render_results(info, table, command))
        print(f"Wrote {DOC.relative_to(REPO)}")
    return 1 if any_failed(results) else 0


if __name__ == "__main__":
    sys.exit(main())
