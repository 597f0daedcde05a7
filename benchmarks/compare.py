#!/usr/bin/env python3
"""django_solidq side by side with Celery + Redis, dj-queue, procrastinate and
django-tasks-db: the same neutral jobs, interleaved runs, medians, ratios.

    python benchmarks/run.py --compare            # full (~40 min); writes docs/benchmarks.md
    python benchmarks/run.py --compare --quick    # one short round, prints only
    python benchmarks/compare.py --systems ours --db sqlite --quick   # ours alone (the smoke test)

The peers run from a throwaway virtualenv (``BENCH_PEERS_VENV``, default
``benchmarks/.peers-venv``, made here with pip from PyPI, Python 3.13 through pyenv when there);
ours from this checkout. Celery's broker is a private ``redis-server`` started on a free port
and stopped at the end. Each system has its own PostgreSQL database ``solidq_bench_<system>``,
re-created here and dropped at the end. benchmarks/README.md says what each number means.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import run  # noqa: E402
from benchmarks.peers import RUNNERS, _common  # noqa: E402

DOC = REPO / "docs" / "benchmarks.md"
START = "<!-- compare:start (written by benchmarks/compare.py) -->"
END = "<!-- compare:end -->"
PEERS_VENV = Path(os.environ.get("BENCH_PEERS_VENV", REPO / "benchmarks" / ".peers-venv"))
PEERS_PYTHON = os.environ.get("BENCH_PEERS_PYENV", "3.13.0")  # pyenv version for the venv
DB_PREFIX = "solidq_bench_"
SLEEP_S = 0.02  # the I/O-bound sync job
STARTUP_S = 90.0  # how long workers may take to run their first job
ASYNC_S = 0.05  # the async job


@dataclass(frozen=True)
class Sizes:
    runs: int
    drain: int
    sleep: int
    asleep: int
    latency: int
    single: int
    bulk: int
    timeout: float
    io_timeout: float


FULL = Sizes(3, 10_000, 10_000, 1_000, 100, 1_000, 10_000, 40.0, 20.0)
QUICK = Sizes(1, 1_000, 500, 200, 20, 200, 2_000, 20.0, 15.0)
SMOKE = Sizes(1, 100, 30, 30, 3, 20, 200, 60.0, 60.0)  # the pytest smoke test: seconds


# -- systems ------------------------------------------------------------------------------


class System:
    """One system: its runner module (read here for configurations and worker command lines;
    run in the system's interpreter for everything else), database and environment."""

    def __init__(self, name: str, python: Path, procs: run.Procs, env: dict[str, str]) -> None:
        self.module: ModuleType = importlib.import_module(f"benchmarks.peers.{name}")
        self.runner = name
        self.key: str = self.module.SYSTEM
        self.label: str = self.module.LABEL
        self.configs: list[_common.Config] = list(self.module.CONFIGS)
        if hasattr(self.module, "describe"):
            self.configs = self.module.describe(self.configs)
        self.python = python
        self.procs = procs
        self.extra_env = env
        self.db = DB_PREFIX + self.key

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SOLIDQ_", "BENCH_S"))}
        env.pop("VIRTUAL_ENV", None)
        env.update(PYTHONPATH=str(REPO), BENCH_DB_NAME=self.db, **self.extra_env)
        env.update(self.module.ENV)
        dsn = f"host={run.PG_HOST} port={run.PG_PORT} user={run.PG_USER} dbname={self.db}"
        env["BENCH_PG_DSN"] = dsn
        return env

    def call(self, *args: Any, out: Path | None = None, timeout: float = 300.0) -> dict[str, Any]:
        """One runner command in the system's interpreter; its last stdout line is JSON."""
        env = self.env()
        if out is not None:
            env["BENCH_OUT"] = str(out)
        cmd = [str(self.python), "-m", f"benchmarks.peers.{self.runner}", *map(str, args)]
        try:
            done = subprocess.run(
                cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired as exc:
            raise run.BenchError(f"{args[0]} timed out after {timeout:.0f} s") from exc
        lines = done.stdout.strip().splitlines()
        try:
            result = json.loads(lines[-1]) if lines else {}
        except json.JSONDecodeError:
            result = {}
        if done.returncode != 0 or not result or "error" in result:
            detail = result.get("error") or " / ".join(done.stderr.strip().splitlines()[-3:])
            raise run.BenchError(f"{args[0]} failed: {detail}")
        return result

    def start(self, config: _common.Config, out: Path) -> list[subprocess.Popen[bytes]]:
        started = []
        for i, (argv, extra) in enumerate(self.module.workers(config, str(self.python))):
            env = {**self.env(), **extra, "BENCH_OUT": str(out)}
            started.append(self.procs.start(argv, env, f"{self.key}-{config.name}-{i}"))
        return started

    def died(self, started: list[subprocess.Popen[bytes]]) -> str | None:
        for proc in started:
            if proc.poll() is not None:
                return f"worker exited with status {proc.returncode}: {self.procs.tail(proc)}"
        return None

    def stop(self, started: list[subprocess.Popen[bytes]]) -> None:
        for proc in started:
            self.procs.stop(proc)

    def uses_postgres(self) -> bool:
        return self.key != "celery" and self.extra_env.get("BENCH_DB_VENDOR") != "sqlite"

    def analyze(self) -> None:
        if self.uses_postgres():
            with run.pg_connect(self.db) as conn:
                conn.execute("ANALYZE")


# -- the file the jobs write ----------------------------------------------------------------


def read_lines(path: Path) -> list[tuple[float, str]]:
    rows = []
    with contextlib.suppress(FileNotFoundError):
        for line in path.read_text().splitlines():
            parts = line.split(" ", 1)
            with contextlib.suppress(ValueError, IndexError):
                rows.append((float(parts[0]), parts[1] if len(parts) > 1 else ""))
    return rows


def count_lines(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


def fresh(workdir: Path, tag: str) -> Path:
    path = workdir / f"{tag}.out"
    path.unlink(missing_ok=True)
    path.touch()
    return path


# -- measurements ---------------------------------------------------------------------------


def drain(
    system: System, config: _common.Config, kind: str, n: int, timeout: float, workdir: Path
) -> dict[str, Any]:
    """Pre-load n jobs of a kind, start the workers, wait until n lines (or the cap, counted
    from the first job).
    *steady*: jobs/s between the 10 % and 90 % marks of the jobs that ran (by start time)."""
    out = fresh(workdir, f"{system.key}-{config.name}-{kind}")
    seconds = {"line": 0.0, "sleep": SLEEP_S, "async": ASYNC_S}[kind]
    system.call("load", kind, n, "--seconds", seconds, "--reset", timeout=600)
    system.analyze()
    began = time.time()
    started = system.start(config, out)
    error = None
    try:
        # Start-up (slow on a busy machine) has its own limit; the cap runs from the first job.
        deadline = time.monotonic() + STARTUP_S
        first = False
        while (done := count_lines(out)) < n:
            if done and not first:
                first, deadline = True, time.monotonic() + timeout
            error = system.died(started)
            if error is None and time.monotonic() > deadline:
                error = (
                    f"capped {timeout:.0f} s after the first job"
                    if first
                    else f"no job ran within {STARTUP_S:.0f} s"
                )
            if error:
                break
            time.sleep(0.1)
    finally:
        system.stop(started)
    times = sorted(t for t, _ in read_lines(out))
    result: dict[str, Any] = {"n": n, "done": len(times)}
    if error:
        result.update(error=error, partial=bool(times))
    if times:
        result["first_s"] = times[0] - began
        result["total_s"] = times[-1] - began
    low, high = int(0.1 * len(times)), int(0.9 * len(times)) - 1
    if high > low and times[high] > times[low]:
        result["rate"] = (high - low) / (times[high] - times[low])
    return result


def latency(
    system: System,
    config: _common.Config,
    n: int,
    workdir: Path,
    spacing: float = 0.05,
    idle: float = 1.0,
) -> dict[str, Any]:
    """An idle worker; one job every ``spacing`` s; call -> start of each (p50, p95)."""
    out = fresh(workdir, f"{system.key}-{config.name}-latency")
    system.call("reset")
    started = system.start(config, out)
    try:
        system.call("latency", 5, "--spacing", spacing, out=out)  # warm-up: the worker is up
        run.wait_for(lambda: system.died(started) or count_lines(out) >= 5, 90, "the warm-up jobs")
        if error := system.died(started):
            raise run.BenchError(error)
        time.sleep(idle)  # the worker idle
        out.write_text("")
        system.call("latency", n, "--spacing", spacing, out=out, timeout=n * spacing + 120)
        run.wait_for(lambda: system.died(started) or count_lines(out) >= n, 30, "the probe jobs")
        if error := system.died(started):
            raise run.BenchError(error)
    finally:
        system.stop(started)
    ms = sorted((t - float(tag)) * 1000 for t, tag in read_lines(out))
    return {"n": n, "p50_ms": run_percentile(ms, 0.5), "p95_ms": run_percentile(ms, 0.95)}


def run_percentile(values: list[float], q: float) -> float:
    index = (len(values) - 1) * q
    low = int(index)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (index - low)


def enqueue(system: System, kind: str, n: int, per_call: int = 0) -> dict[str, Any]:
    if kind == "single":
        return system.call("single", n, "--reset")
    return system.call("bulk", n, "--per-call", per_call, "--reset")


def calibration(db: str, workdir: Path, n: int = 300) -> dict[str, Any]:
    """Raw one-row INSERT + COMMIT on one connection: PostgreSQL (``db``) or SQLite."""
    if db == "sqlite":
        import sqlite3

        conn = sqlite3.connect(workdir / "calibration.sqlite3", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE IF NOT EXISTS c (id INTEGER PRIMARY KEY, v INT)")
        began = time.perf_counter()
        for i in range(n):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO c (v) VALUES (?)", (i,))
            conn.execute("COMMIT")
        seconds = time.perf_counter() - began
        conn.close()
        return {"n": n, "rate": n / seconds}
    with run.pg_connect(db) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_calibration")
        conn.execute("CREATE TABLE bench_calibration (id serial PRIMARY KEY, v int)")
        began = time.perf_counter()
        for i in range(n):
            conn.execute("INSERT INTO bench_calibration (v) VALUES (%s)", (i,))
        seconds = time.perf_counter() - began
        conn.execute("DROP TABLE bench_calibration")
    return {"n": n, "rate": n / seconds}


# -- environment: virtualenv, redis, databases -------------------------------------------------


def base_python() -> str:
    """Python 3.13 for the peers' virtualenv: pyenv's if there, else this one's base."""
    if shutil.which("pyenv"):
        env = {**os.environ, "PYENV_VERSION": PEERS_PYTHON}
        done = subprocess.run(["pyenv", "which", "python"], capture_output=True, text=True, env=env)
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    return getattr(sys, "_base_executable", sys.executable)


def ensure_peers_venv(runners: Sequence[str], django_version: str) -> Path:
    python = PEERS_VENV / "bin" / "python"
    wanted = ["psycopg[binary]", f"Django=={django_version}"]
    probes = ["django", "psycopg"]
    for name in runners:
        module = importlib.import_module(f"benchmarks.peers.{name}")
        if hasattr(module, "REQUIREMENT"):
            wanted += [module.REQUIREMENT, *getattr(module, "EXTRA_REQUIREMENTS", ())]
    if python.exists():
        listed = subprocess.run(
            [str(python), "-m", "pip", "freeze"], capture_output=True, text=True
        ).stdout.lower()
        names = {line.split("==")[0] for line in listed.splitlines()}
        if all(
            (r.lower() in listed) if "==" in r else (r.split("[")[0].lower() in names)
            for r in wanted
        ):
            return python
    if not python.exists():
        print(f"Creating {PEERS_VENV} (Python from {base_python()}) ...", flush=True)
        subprocess.run([base_python(), "-m", "venv", str(PEERS_VENV)], check=True)
    print(f"Installing into {PEERS_VENV}: {' '.join(wanted)}", flush=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *wanted], check=True)
    subprocess.run([str(python), "-c", "import " + ", ".join(probes)], check=True)
    return python


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def redis_server(procs: run.Procs, workdir: Path) -> Iterator[str | None]:
    """A private ``redis-server`` (its default configuration, a free port, a temporary
    directory), stopped on the way out. None when there is no redis-server binary."""
    binary = shutil.which("redis-server")
    if binary is None:
        print("No redis-server (apt-get install redis-server): Celery is left out.", flush=True)
        yield None
        return
    port = free_port()
    (workdir / "redis").mkdir(exist_ok=True)
    cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir / "redis")]
    proc = procs.start(cmd, dict(os.environ), "redis-server")

    def up() -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return True
        return False

    run.wait_for(lambda: proc.poll() is not None or up(), 10, "redis-server")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        procs.stop(proc)


def recreate(db: str) -> None:
    if not db.startswith(DB_PREFIX):
        raise SystemExit(f"refusing to drop {db!r}: not a {DB_PREFIX}* database")
    run.recreate_database(db)


# -- the plan -------------------------------------------------------------------------------


def step(results: list[dict[str, Any]], what: dict[str, Any], fn: Callable[[], Any]) -> None:
    """Run one measurement, print it, keep it (a failure is a result with ``error``)."""
    title = " ".join(str(v) for v in what.values())
    print(f"  {title} ...", end=" ", flush=True)
    load = run.loadavg()
    began = time.monotonic()
    try:
        value = fn()
    except Exception as exc:  # any failure is a FAILED measurement, not a crash
        value = {"error": f"{type(exc).__name__}: {exc}"}
    value = {**what, **value, "load": [load, run.loadavg()]}
    shown = {k: value[k] for k in ("rate", "p50_ms", "p95_ms", "done", "error") if k in value}
    shown_text = ", ".join(
        f"{k}={v:,.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()
    )
    print(f"({time.monotonic() - began:.1f} s) {shown_text}", flush=True)
    results.append(value)
    if ON_STEP is not None:
        ON_STEP()


ON_STEP: Callable[[], None] | None = None  # after each step: save what we have (--json)


def one_round(
    systems: list[System],
    sqlite_ours: System | None,
    sizes: Sizes,
    ns: argparse.Namespace,
    workdir: Path,
    results: list[dict[str, Any]],
    r: int,
) -> None:
    """Every measurement once, system after system (defaults first, tuned after)."""
    print(f"Round {r} (load {run.loadavg():.2f})", flush=True)
    calib_db = "sqlite" if ns.db == "sqlite" else systems[0].db
    step(results, {"round": r, "m": "calibration"}, lambda: calibration(calib_db, workdir))

    for default in (True, False):
        for system in systems:
            for config in configs_of(system, default, ns):
                step(
                    results,
                    {"round": r, "m": "drain", "system": system.key, "config": config.name},
                    lambda s=system, c=config: drain(
                        s, c, "line", sizes.drain, sizes.timeout, workdir
                    ),
                )
    for system in systems:
        for config in system.configs:
            if (config.default or config.name in ns.latency_configs) and (
                not ns.configs or config.name in ns.configs
            ):
                step(
                    results,
                    {"round": r, "m": "latency", "system": system.key, "config": config.name},
                    lambda s=system, c=config: latency(
                        s, c, sizes.latency, workdir, idle=0.2 if ns.smoke else 1.0
                    ),
                )
    enqueue_round(systems, sizes, ns, results, r)
    if ns.io_runs is None or r <= ns.io_runs:
        io_round(systems, sizes, ns, workdir, results, r)
    if sqlite_ours is not None:
        config = _common.Config("sqlite-2p", "SQLite, 2 processes", options=SQLITE_2P)
        step(
            results,
            {"round": r, "m": "drain", "system": "ours-sqlite", "config": config.name},
            lambda: drain(sqlite_ours, config, "line", sizes.drain, sizes.timeout, workdir),
        )


def configs_of(system: System, default: bool, ns: argparse.Namespace) -> list[_common.Config]:
    chosen = [c for c in system.configs if c.default == default]
    return [c for c in chosen if not ns.configs or c.name in ns.configs]


def enqueue_round(
    systems: list[System], sizes: Sizes, ns: argparse.Namespace, results: list[Any], r: int
) -> None:
    for system in systems:
        step(
            results,
            {"round": r, "m": "single", "system": system.key},
            lambda s=system: enqueue(s, "single", sizes.single),
        )
        for per_call in system.module.BULK_PER_CALL:
            if per_call > 1000:  # ours' large batch: one call
                per_call = (2000 if ns.smoke else 5000) if ns.quick else per_call
            n = sizes.bulk if per_call <= 1000 else per_call
            step(
                results,
                {"round": r, "m": "bulk", "system": system.key, "per_call": per_call},
                lambda s=system, k=n, p=per_call: enqueue(s, "bulk", k, p),
            )


def io_round(
    systems: list[System],
    sizes: Sizes,
    ns: argparse.Namespace,
    workdir: Path,
    results: list[Any],
    r: int,
) -> None:
    """The I/O-bound jobs: 20 ms sync sleeps and 50 ms async sleeps."""
    for kind, n in (("sleep", sizes.sleep), ("async", sizes.asleep)):
        for default in (True, False):
            for system in systems:
                if kind == "async" and hasattr(system.module, "NO_ASYNC"):
                    continue
                if kind == "sleep" and ns.smoke:
                    continue  # the same path as the async drain; the smoke test is kept short
                for config in configs_of(system, default, ns):
                    if system.key != "ours" and config.default and not ns.io_peer_defaults:
                        continue  # one job at a time by default: minutes for 10,000 sleeps
                    step(
                        results,
                        {"round": r, "m": kind, "system": system.key, "config": config.name},
                        lambda s=system, c=config, k=kind, m=n: drain(
                            s, c, k, m, sizes.io_timeout, workdir
                        ),
                    )


SQLITE_2P = {"WORKERS": [{"processes": 2}]}  # the documented defaults, two worker processes


# -- report ---------------------------------------------------------------------------------


def medians(results: list[dict[str, Any]], key: str = "rate") -> dict[tuple[Any, ...], Any]:
    """(m, system, config or per_call) -> {median, lo, hi, runs, partial, errors}."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in results:
        if r["m"] == "calibration":
            ident: tuple[Any, ...] = ("calibration", "", "")
        else:
            ident = (r["m"], r["system"], r.get("config", r.get("per_call", "")))
        groups.setdefault(ident, []).append(r)
    out = {}
    for ident, rows in groups.items():
        good = [r for r in rows if key in r or "p50_ms" in r]
        summary: dict[str, Any] = {
            "runs": len(rows),
            "errors": [r["error"] for r in rows if "error" in r],
        }
        summary["partial"] = any(r.get("partial") for r in rows)
        for field in ("rate", "p50_ms", "p95_ms"):
            values = [r[field] for r in good if field in r]
            if values:
                summary[field] = statistics.median(values)
                summary[field + "_range"] = (min(values), max(values))
        summary["done"] = [r.get("done") for r in rows if "done" in r]
        out[ident] = summary
    return out


def fmt_rate(s: dict[str, Any] | None, unit: str = "/s") -> str:
    if not s:
        return ""
    if "rate" not in s:
        return "FAILED" if s.get("errors") else ""
    text = f"{s['rate']:,.0f}"
    lo, hi = s["rate_range"]
    if s["runs"] > 1:
        text += f" ({lo:,.0f}-{hi:,.0f})"
    if s.get("partial"):
        text += "†"
    return text


def fmt_latency(s: dict[str, Any] | None) -> str:
    if not s or "p50_ms" not in s:
        return "FAILED" if s and s.get("errors") else ""
    return f"{s['p50_ms']:.1f} / {s['p95_ms']:.1f}"


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return ""
    return f"{a / b:.2f}x"


def build_report(
    systems: list[System], results: list[dict[str, Any]], ns: argparse.Namespace
) -> str:
    med = medians(results)
    ours_default = med.get(("drain", "ours", "defaults"), {}).get("rate")
    lines = [
        "| system | configuration | drain, steady jobs/s | x ours (defaults) "
        "| idle latency p50 / p95 ms | single enqueue/s | bulk enqueue/s (1,000 per call) "
        "| 20 ms sleep jobs/s | 50 ms async jobs/s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for default in (True, False):
        for system in systems:
            for config in system.configs:
                if config.default != default:
                    continue
                drain_s = med.get(("drain", system.key, config.name))
                if drain_s is None:
                    continue
                first = config.default
                rate = drain_s.get("rate")
                row = [
                    system.label,
                    config.label,
                    fmt_rate(drain_s),
                    "" if system.key == "ours" and config.default else ratio(rate, ours_default),
                    fmt_latency(med.get(("latency", system.key, config.name))),
                    fmt_rate(med.get(("single", system.key, ""))) if first else "",
                    fmt_rate(med.get(("bulk", system.key, 1000))) if first else "",
                    fmt_rate(med.get(("sleep", system.key, config.name))),
                    fmt_rate(med.get(("async", system.key, config.name))),
                ]
                lines.append("| " + " | ".join(row) + " |")
    extra = []
    big = next((k for k in med if k[:2] == ("bulk", "ours") and k[2] > 1000), None)
    if big:
        extra.append(
            f"* django_solidq bulk enqueue, {big[2]:,} jobs in one call: "
            f"{fmt_rate(med[big])} jobs/s."
        )
    sqlite = med.get(("drain", "ours-sqlite", "sqlite-2p"))
    if sqlite:
        extra.append(
            f"* django_solidq on SQLite (WAL, the documented settings), 2 worker processes with "
            f"the default threads: {fmt_rate(sqlite)} jobs/s steady."
        )
    calib = med.get(("calibration", "", ""))
    if calib:
        extra.append(
            f"* Calibration, raw one-row INSERT + COMMIT on one connection: {fmt_rate(calib)}/s."
        )
    return "\n".join(lines) + ("\n\n" + "\n".join(extra) if extra else "")


def targets(med: dict[tuple[Any, ...], Any]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for issue 15's targets that this run measured."""

    def get(*ident: Any, field: str = "rate") -> float | None:
        return (med.get(ident) or {}).get(field)

    ours_def = get("drain", "ours", "defaults")
    ours_best = max(
        (v["rate"] for k, v in med.items() if k[:2] == ("drain", "ours") and "rate" in v),
        default=None,
    )
    solo = get("drain", "celery", "solo")
    djq = get("drain", "djqueue", "defaults")
    rows = []

    def add(name: str, a: float | None, b: float | None, want: float, what: str) -> None:
        if a is None or b is None:
            rows.append((name, "not measured", "n/a"))
            return
        ok = a / b >= want
        shown = f"{a:,.0f} {what}" if b == 1.0 else f"{a:,.0f} / {b:,.0f} = {a / b:.2f}x ({what})"
        rows.append((name, shown, "met" if ok else "**not met**"))

    add("drain, defaults ≥ 2x celery solo", ours_def, solo, 2.0, "ours defaults / celery solo")
    add("drain, defaults ≥ 3x dj-queue defaults", ours_def, djq, 3.0, "ours / dj-queue")
    add("drain, best ≥ 4x celery solo", ours_best, solo, 4.0, "ours best / celery solo")
    lat_ours = get("latency", "ours", "defaults", field="p50_ms")
    lat_solo = get("latency", "celery", "solo", field="p50_ms")
    if lat_ours is not None and lat_solo is not None:
        ok = lat_ours <= lat_solo
        rows.append(
            (
                "idle latency p50 ≤ celery solo's",
                f"{lat_ours:.1f} ms vs {lat_solo:.1f} ms",
                "met" if ok else "**not met**",
            )
        )
    add(
        "single enqueue ≥ 0.7x raw INSERT + COMMIT",
        get("single", "ours", ""),
        get("calibration", "", ""),
        0.7,
        "ours / calibration",
    )
    add(
        "bulk (1,000 per call) ≥ 2x procrastinate batch_defer",
        get("bulk", "ours", 1000),
        get("bulk", "procrastinate", 1000),
        2.0,
        "ours / procrastinate",
    )
    ours = importlib.import_module("benchmarks.peers.ours")
    one_process = {c.name for c in ours.CONFIGS if c.processes == 1}
    async_best = max(
        (
            v["rate"]
            for k, v in med.items()
            if k[:2] == ("async", "ours") and k[2] in one_process and "rate" in v
        ),
        default=None,
    )
    add(
        "async 50 ms jobs ≥ 2,000/s, one worker process",
        async_best,
        1.0,
        2000.0,
        "jobs/s (best one-process configuration)",
    )
    add(
        "SQLite, 2 processes ≥ 1,000/s",
        get("drain", "ours-sqlite", "sqlite-2p"),
        1.0,
        1000.0,
        "jobs/s",
    )
    return rows


def render(
    info: dict[str, Any],
    systems: list[System],
    results: list[dict[str, Any]],
    ns: argparse.Namespace,
) -> str:
    med = medians(results)
    loads = [x for r in results for x in r.get("load", [])]
    versions = "; ".join(
        f"{v['system']} " + ", ".join(f"{k} {x}" for k, x in v.items() if k != "system")
        for v in info["versions"].values()
    )
    target_rows = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in targets(med))
    return f"""{START}

Run on {info["date"]} with `{info["command"]}` ({info["elapsed"]}), {info["sizes"]}.

* Machine: `nproc` = {info["nproc"]} ({info["cpu"]}), {info["mem"]} RAM, Linux {info["kernel"]};
  1-minute load average {min(loads, default=0):.1f} to {max(loads, default=0):.1f} during the
  run{info["busy_note"]}.
* PostgreSQL {info["postgres"]} on 127.0.0.1 (synchronous_commit {info["sync"]}){info["redis"]}.
* Versions: {versions}; django_solidq at {info["commit"]}.
* Each number is the median of {info["runs"]} interleaved runs (range in brackets; the sleep
  and async jobs: {info["io_runs"]} run(s));
  † = at least one run hit its time limit, the rate is over the jobs that ran.

{build_report(systems, results, ns)}

Targets of issue 15 (ratios from this run):

| target | measured | verdict |
| --- | --- | --- |
{target_rows}

{END}"""


def write_doc(block: str) -> None:
    text = DOC.read_text()
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n## Side by side\n\n" + block + "\n"
    DOC.write_text(text)


def machine(systems: list[System], redis_url: str | None, ns: argparse.Namespace) -> dict[str, Any]:
    def sh(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"

    cpu = [ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model n")]
    mem = [ln for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")]
    info: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu[0].split(":", 1)[1].strip() if cpu else "?",
        "mem": f"{int(mem[0].split()[1]) / 1024 / 1024:.0f} GiB" if mem else "?",
        "kernel": platform.release(),
        "postgres": "?",
        "sync": "?",
        "redis": "",
    }
    with contextlib.suppress(Exception), run.pg_connect("postgres") as conn:
        info["postgres"] = conn.execute("SHOW server_version").fetchone()[0]
        info["sync"] = conn.execute("SHOW synchronous_commit").fetchone()[0]
    if redis_url:
        version = sh(["redis-server", "--version"]).split(" v=")[-1].split()[0]
        info["redis"] = (
            f"; Redis {version}, its default configuration (no fsync per message: not durable"
            " as the database queues are)"
        )
    commit = sh(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = sh(["git", "-C", str(REPO), "status", "--porcelain", "--", "django_solidq"])
    info["commit"] = commit + (" plus uncommitted changes in django_solidq/" if dirty else "")
    info["versions"] = {}
    for system in systems:
        with contextlib.suppress(run.BenchError):
            info["versions"][system.key] = (
                {"system": system.label} if ns.smoke else system.call("version")
            )
    return info


# -- main -----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--compare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="one short round")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (the pytest smoke test)")
    parser.add_argument("--runs", type=int, help="rounds (default 3; quick 1)")
    parser.add_argument(
        "--io-runs",
        type=int,
        help="rounds with the sleep and async jobs (default: every round)",
    )
    parser.add_argument(
        "--systems", default=",".join(RUNNERS), help=f"comma list of {', '.join(RUNNERS)}"
    )
    parser.add_argument("--configs", default="", help="only these configuration names")
    parser.add_argument(
        "--latency-configs", default="solo,2x25", help="latency for these too (defaults always)"
    )
    parser.add_argument(
        "--io-peer-defaults", action="store_true", help="sleep/async jobs on peers' defaults too"
    )
    parser.add_argument(
        "--db", choices=["postgres", "sqlite"], default="postgres", help="sqlite: ours only"
    )
    parser.add_argument("--no-sqlite", action="store_true", help="skip ours on SQLite")
    parser.add_argument("--drain-n", type=int, help="jobs per drain")
    parser.add_argument("--timeout", type=float, help="cap per drain (s)")
    parser.add_argument("--json", type=Path, help="also write the raw results here (each step)")
    parser.add_argument("--from-json", type=Path, help="only render a --json file's results")
    parser.add_argument("--keep-dbs", action="store_true")
    docs = parser.add_mutually_exclusive_group()
    docs.add_argument("--write-docs", dest="write_docs", action="store_true", default=None)
    docs.add_argument("--no-write-docs", dest="write_docs", action="store_false")
    ns = parser.parse_args(argv)
    ns.quick = ns.quick or ns.smoke
    ns.systems = [s for s in ns.systems.split(",") if s]
    unknown = set(ns.systems) - set(RUNNERS)
    if unknown:
        parser.error(f"unknown systems: {', '.join(sorted(unknown))}")
    ns.configs = {c for c in ns.configs.split(",") if c}
    ns.latency_configs = {c for c in ns.latency_configs.split(",") if c}
    if ns.db == "sqlite" and ns.systems != ["ours"]:
        parser.error("--db sqlite runs ours only (--systems ours)")
    if ns.write_docs is None:
        ns.write_docs = not ns.quick and ns.db == "postgres" and len(ns.systems) == len(RUNNERS)
    return ns


def sizes_for(ns: argparse.Namespace) -> Sizes:
    base = SMOKE if ns.smoke else QUICK if ns.quick else FULL
    changes: dict[str, Any] = {}
    if ns.runs:
        changes["runs"] = ns.runs
    if ns.drain_n:
        changes["drain"] = ns.drain_n
    if ns.timeout:
        changes["timeout"] = ns.timeout
    if not changes:
        return base
    values = {**base.__dict__, **changes}
    return Sizes(**values)


def make_systems(
    ns: argparse.Namespace,
    peers: list[str],
    peers_python: Path | None,
    procs: run.Procs,
    workdir: Path,
    redis_url: str | None,
) -> tuple[list[System], System | None]:
    """The systems to run (ours first), and ours on SQLite for the two-process drain."""
    sqlite_env = {"BENCH_DB_VENDOR": "sqlite", "BENCH_SQLITE_PATH": str(workdir / "ours.sqlite3")}
    systems = []
    for name in ["ours", *peers] if "ours" in ns.systems else peers:
        python = Path(sys.executable) if name == "ours" else peers_python
        assert python is not None
        env = {"BENCH_REDIS_URL": redis_url or ""}
        if ns.db == "sqlite":
            env.update(sqlite_env)
        systems.append(System(name, python, procs, env))
    sqlite_ours = None
    if "ours" in ns.systems and ns.db == "postgres" and not ns.no_sqlite:
        sqlite_ours = System("ours", Path(sys.executable), procs, sqlite_env)
    return systems, sqlite_ours


def main(argv: Sequence[str] | None = None) -> int:
    run.ensure_interpreter(str(Path(__file__)))
    ns = parse_args(argv)
    import django

    if ns.from_json:
        return from_json(ns.from_json, ns)
    sizes = sizes_for(ns)
    workdir = Path(tempfile.mkdtemp(prefix="solidq-compare-"))
    procs = run.Procs(workdir)
    began = time.monotonic()
    results: list[dict[str, Any]] = []
    peers = [s for s in ns.systems if s != "ours"]
    peers_python = ensure_peers_venv(peers, django.get_version()) if peers else None
    with run.cleanup(procs), contextlib.ExitStack() as stack:
        redis_url = None
        if "celery_redis" in peers:
            redis_url = stack.enter_context(redis_server(procs, workdir))
            if redis_url is None:
                peers.remove("celery_redis")
        systems, sqlite_ours = make_systems(ns, peers, peers_python, procs, workdir, redis_url)
        for system in [*systems, *([sqlite_ours] if sqlite_ours else [])]:
            if system.uses_postgres():
                recreate(system.db)
            system.call("setup", timeout=300)
        info = machine(systems, redis_url, ns)
        describe_run(info, sizes, ns, argv)
        if ns.json:
            global ON_STEP
            ON_STEP = lambda: save_json(ns.json, info, results, began)  # noqa: E731
        print(
            f"{info['date']}: {info['nproc']} cores, load {run.loadavg():.2f}, PostgreSQL "
            f"{info['postgres']}; {', '.join(s.label for s in systems)}; {sizes}",
            flush=True,
        )
        try:
            for r in range(1, sizes.runs + 1):
                one_round(systems, sqlite_ours, sizes, ns, workdir, results, r)
        finally:
            if not ns.keep_dbs:
                for system in systems:
                    if system.uses_postgres():
                        run.drop_database(system.db)
    info["elapsed"] = elapsed(began)
    if ns.json:
        save_json(ns.json, info, results, began, done=True)
    print(f"\n(logs in {workdir})")
    return report(info, systems, results, ns)


def describe_run(
    info: dict[str, Any], sizes: Sizes, ns: argparse.Namespace, argv: Sequence[str] | None
) -> None:
    info["runs"] = sizes.runs
    info["io_runs"] = sizes.runs if ns.io_runs is None else min(ns.io_runs, sizes.runs)
    info["sizes"] = (
        f"{sizes.drain:,} jobs per drain, {sizes.sleep:,} sleep jobs, {sizes.asleep:,} async "
        f"jobs, {sizes.latency} latency probes, drain cap {sizes.timeout:.0f} s "
        f"(sleep/async {sizes.io_timeout:.0f} s) after the first job"
    )
    args = [a for a in (sys.argv[1:] if argv is None else argv) if a != "--compare"]
    info["command"] = " ".join(["python benchmarks/run.py --compare", *args])


def elapsed(began: float) -> str:
    return f"{(time.monotonic() - began) / 60:.0f} min"


def save_json(
    path: Path, info: dict[str, Any], results: list[Any], began: float, done: bool = False
) -> None:
    info["elapsed"] = elapsed(began)
    if not done:
        info["elapsed"] += " so far (stopped early)"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"info": info, "results": results}, default=str))
    os.replace(tmp, path)


def report(
    info: dict[str, Any], systems: list[System], results: list[Any], ns: argparse.Namespace
) -> int:
    load = [x for r in results for x in r.get("load", [])]
    info["busy_note"] = (
        " — the machine was shared with other work; compare ratios within this run"
        if max(load, default=0) > (os.cpu_count() or 1) * 0.5
        else ""
    )
    block = render(info, systems, results, ns)
    print("\n" + block)
    if ns.write_docs:
        write_doc(block)
        print(f"Wrote {DOC.relative_to(REPO)}")
    failed = [r for r in results if "error" in r and not r.get("partial")]
    return 1 if failed else 0


def from_json(path: Path, ns: argparse.Namespace) -> int:
    """Render (and write) the block from a saved --json file, complete or not."""
    saved = json.loads(path.read_text())
    saved["info"].setdefault("io_runs", 1)
    procs = run.Procs(Path(tempfile.gettempdir()))
    systems = [System(name, Path(sys.executable), procs, {}) for name in ns.systems]
    present = {r.get("system") for r in saved["results"]}
    return report(saved["info"], [s for s in systems if s.key in present], saved["results"], ns)


if __name__ == "__main__":
    sys.exit(main())
