"""Chaos soak: two ``runjobs`` hosts (2 worker processes each) on a private PostgreSQL or
MariaDB server, a mixed workload, and kill -9s, host losses, terminated connections, database
restarts and rolling restarts meanwhile; then the ledger the jobs wrote is checked.

    python benchmarks/chaos.py --short --db postgres      # ~2 minutes (what CI runs)
    python benchmarks/chaos.py --short --db mysql
    python benchmarks/chaos.py --db postgres,mysql --minutes 30 --jobs 20000   # the long form
    python benchmarks/chaos.py --short --db postgres --no-chaos   # the same load, no chaos

Exit status 0 when every check passed. ``--json FILE`` writes the report. Each soak starts
its own server on a free port of 127.0.0.1 in a temporary directory (never the shared ones),
and every process it started is ended on the way out; the directory (logs, ledger) is kept
when a check failed, or with ``--keep``. See docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import chaos_checks as checks
from benchmarks.chaos_actors import REPO, Fleet, Monitor, Monkey
from benchmarks.chaos_servers import Server, private_server
from benchmarks.chaos_workload import Feeder, job_mix

SHORT = {"jobs": 3000, "minutes": 1.5}
LONG = {"jobs": 20000, "minutes": 30.0}
DB_NAME = "solidq_chaos"
WORKERS_PER_HOST = 2
HOST_CHILDREN = WORKERS_PER_HOST + 2  # + dispatcher + scheduler


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.5) -> None:
    """Poll ``predicate`` (a query) until true; database errors count as not yet."""
    from django.db import DatabaseError, connections

    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except DatabaseError:  # the connection was terminated: reconnect next time
            connections.close_all()
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


class Soak:
    """One soak on one database: set up, run, drain, check."""

    def __init__(self, vendor: str, ns: argparse.Namespace, workdir: Path) -> None:
        self.ns = ns
        self.workdir = workdir
        self.server: Server = private_server(vendor, DB_NAME)
        self.ledger = workdir / "ledger.sqlite3"
        self.fleet: Fleet | None = None

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            **self.server.settings_env(),
            "CHAOS_LEDGER": str(self.ledger),
            "DJANGO_SETTINGS_MODULE": "benchmarks.chaos_settings",
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
        }

    def setup(self) -> None:
        self.server.start()
        os.environ.update(self.env())
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        from benchmarks.chaos_tasks import create_ledger

        create_ledger(str(self.ledger))

    def run(self) -> dict[str, Any]:
        from django.conf import settings

        config = settings.SOLIDQ
        seconds = self.ns.minutes * 60
        self.fleet = Fleet(self.env(), self.workdir)
        for slot in ("host-a", "host-b"):
            self.fleet.start(slot)
        self._wait_for_workers(2 * WORKERS_PER_HOST)
        monitor = Monitor(self.server, threshold=config["PROCESS_ALIVE_THRESHOLD"])
        monitor.start()
        monkey = Monkey(self.fleet, self.server, monitor, seconds=seconds, seed=self.ns.seed)
        monkey.cycle = self.ns.cycle
        feeder = Feeder(job_mix(self.ns.jobs, self.ns.seed), seconds)
        began = time.time()
        feeder.start()
        if not self.ns.no_chaos:
            monkey.start()
        feeder.join(seconds + 300)
        monkey.stop()
        chaos_ended = time.time()
        drain = self._drain()
        monitor.stop()
        report = self._report(feeder, monkey, monitor, drain)
        report["seconds"] = {"chaos": chaos_ended - began, "drain": drain["seconds"]}
        return report

    def _wait_for_workers(self, count: int) -> None:
        from django_solidq.models import Process

        wait_for(
            lambda: Process.objects.filter(kind="worker").count() >= count,
            120,
            f"{count} workers to register",
        )

    def _drain(self) -> dict[str, Any]:
        """Let the hosts finish the fed jobs, stop them (TERM), then run what the last ticks
        enqueued on one host without a scheduler, and stop that too."""
        from django.db import connections

        from django_solidq.models import Job

        assert self.fleet is not None
        began = time.monotonic()
        fed = Job.objects.exclude(task_path="benchmarks.chaos_tasks.tick")
        timeout = self.ns.drain_timeout
        unended = None
        try:
            wait_for(lambda: not _unended(fed).exists(), timeout, "the fed jobs to end")
        except TimeoutError as exc:
            unended = str(exc)
        connections.close_all()
        statuses = {slot: host.term(60) for slot, host in self.fleet.hosts.items()}
        for host in [*self.fleet.hosts.values(), *self.fleet.retired]:
            if host.alive():
                host.diagnose("still running at the end of the soak")
                host.close()  # a host that ignored TERM must not enqueue ticks meanwhile
        last = self.fleet.start("drain", "--skip-recurring")
        try:
            self._wait_for_workers(WORKERS_PER_HOST)  # up, so that TERM stops it gracefully
            wait_for(lambda: not _unended(Job.objects.all()).exists(), 60, "the last ticks")
        except TimeoutError as exc:
            unended = unended or str(exc)
        statuses["drain"] = last.term(60)
        connections.close_all()
        return {"seconds": time.monotonic() - began, "timeout": unended, "exit": statuses}

    def _report(
        self, feeder: Feeder, monkey: Monkey, monitor: Monitor, drain: dict[str, Any]
    ) -> dict[str, Any]:
        from django.conf import settings

        runs, jobs, ticks = self._collect()
        config = settings.SOLIDQ
        spans = checks.run_intervals(runs, monkey.kills, time.time())
        threshold = config["PROCESS_ALIVE_THRESHOLD"]
        # A job that ended while the server was down commits its finish once it is back,
        # after the retry backoff's current step (at most 10 s): its claim ages meanwhile.
        stuck_allowance = threshold + monkey.longest_outage + 10.0
        report = {
            "database": self.server.vendor,
            "chaos": not self.ns.no_chaos,
            "completions": checks.completions(runs, jobs),
            "enqueues": checks.enqueue_accounting(feeder.acknowledged, jobs, feeder.returned_at),
            "limits": checks.limits(spans, 2),
            "recurring": checks.recurring(ticks, jobs),
            "delays": checks.delays(runs, jobs),
            "throughput": checks.throughput(runs, jobs, feeder.first_enqueue),
            "claims": {
                "stuck": {j: age for j, age in monitor.stuck.items() if age > stuck_allowance},
                "stuck_allowance": stuck_allowance,
                "longest_orphan": monitor.longest_orphan,
                "longest_orphan_job": monitor.longest_orphan_job,
                # pruning waits for the threshold, then the supervisor's next maintenance;
                # nothing can be recovered while the server is down, and once it is back
                # pruning waits a whole threshold again (processes could not heartbeat
                # meanwhile). A process that died just before an outage (kill_host, then
                # restart_database a threshold later) is pruned up to two thresholds plus
                # the outage after its death.
                "orphan_allowance": threshold
                + 3 * config["PROCESS_HEARTBEAT_INTERVAL"]
                + 5
                + (monkey.longest_outage + threshold if monkey.longest_outage else 0.0),
                "max_claim_age": monitor.max_claim_age,
                "longest_transactions": monitor.long_transactions,
                "samples": monitor.samples,
                "failed_samples": monitor.failed_samples,
            },
            "feeder": {
                "retried_batches": feeder.retried_batches,
                "failed_batches": feeder.failed_batches,
            },
            "events": [vars(e) for e in monkey.events],
            "event_counts": _count_events(monkey),
            "hosts_that_ignored_term": monkey.ignored_term,
            "drain": drain,
            "workdir": str(self.workdir),
        }
        report["failures"] = checks.verdict(report)
        if drain["timeout"]:
            report["failures"].append(drain["timeout"])
        return report

    def _collect(self) -> tuple[list[checks.Run], list[checks.JobRow], list[Any]]:
        from benchmarks.chaos_tasks import open_ledger
        from django_solidq.models import FailedExecution, Job, RecurringExecution

        conn = open_ledger(str(self.ledger))
        runs = [checks.Run(checks.norm(r[0]), *r[1:]) for r in conn.execute("SELECT * FROM runs")]
        conn.close()
        failed = {checks.norm(i) for i in FailedExecution.objects.values_list("job_id", flat=True)}
        fields = ["id", "task_path", "args", "enqueued_at", "scheduled_at", "finished_at"]
        values = Job.objects.values(*fields, "discarded_at", "errors")
        jobs = checks.job_rows(values, failed)
        ticks = list(RecurringExecution.objects.values_list("run_at", "job_id"))
        return runs, jobs, ticks

    def cleanup(self) -> None:
        from django.db import connections

        if self.fleet is not None:
            self.fleet.close()
        connections.close_all()
        self.server.cleanup()


def _unended(jobs: Any) -> Any:
    return jobs.filter(finished_at__isnull=True, failedexecution__isnull=True)


def _count_events(monkey: Monkey) -> dict[str, int]:
    counts: dict[str, int] = {}
    for event in monkey.events:
        name = event.name + (" (error)" if event.error else "")
        counts[name] = counts.get(name, 0) + 1
    return counts


def run_one(vendor: str, ns: argparse.Namespace) -> int:
    """Run one soak in this process (Django is set up for its database)."""
    workdir = Path(tempfile.mkdtemp(prefix=f"solidq-chaos-{vendor}-run-"))
    soak = Soak(vendor, ns, workdir)
    report: dict[str, Any] = {"database": vendor, "failures": ["the soak did not finish"]}
    try:
        soak.setup()
        report = soak.run()
    except Exception as exc:
        report["failures"] = [f"the soak itself failed: {type(exc).__name__}: {exc}"]
        raise
    finally:
        soak.cleanup()
        report.setdefault("workdir", str(workdir))
        if ns.json:
            Path(ns.json).write_text(json.dumps(report, indent=2, default=str))
        print(summary(report), flush=True)
        if not report["failures"] and not ns.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if not report["failures"] else 1


def summary(r: dict[str, Any]) -> str:
    if "completions" not in r:
        return f"{r['database']}: FAILED: {r['failures']}"
    c, t, d = r["completions"], r["throughput"], r["delays"]
    lines = [
        f"{r['database']} {'chaos' if r['chaos'] else 'no chaos'}: {c['jobs']:,} jobs, "
        f"{c['completed']:,} completed, lost {c['unfinished_count'] + c['failed']}, "
        f"duplicates {c['duplicates']} (lost attempts recorded {c['lost_attempts_recorded']}), "
        f"{t['jobs_per_second'] or 0:,.1f} jobs/s over {t['seconds'] or 0:.0f}s, "
        f"latency p50 {d['latency_p50'] or 0:.3f}s p95 {d['latency_p95'] or 0:.3f}s",
        f"  events: {r['event_counts']}",
        f"  limits: {r['limits']}; recurring: {r['recurring']}",
        f"  claims: longest orphan {r['claims']['longest_orphan']:.1f}s, "
        f"stuck {len(r['claims']['stuck'])}, max claim age {r['claims']['max_claim_age']:.1f}s",
        f"  drain: {r['drain']['seconds']:.1f}s, exits {r['drain']['exit']}",
    ]
    lines += [f"  FAILED: {f}" for f in r["failures"]] or ["  all checks passed"]
    if r["failures"]:
        lines.append(f"  logs and ledger kept in {r['workdir']}")
    return "\n".join(lines)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="postgres", help="postgres, mysql or both: postgres,mysql")
    parser.add_argument("--short", action="store_true", help="the ~2-minute form (CI)")
    parser.add_argument("--jobs", type=int, help=f"jobs fed (default {LONG['jobs']}, short 3000)")
    parser.add_argument("--minutes", type=float, help="how long jobs are fed under chaos")
    parser.add_argument("--cycle", type=float, default=100.0, help="seconds per round of events")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--no-chaos", action="store_true", help="the same load without chaos")
    parser.add_argument("--drain-timeout", type=float, default=180.0)
    parser.add_argument("--json", help="write the report (one database) or reports here")
    parser.add_argument("--keep", action="store_true", help="keep logs and ledger")
    ns = parser.parse_args(argv)
    form = SHORT if ns.short else LONG
    ns.jobs = ns.jobs or form["jobs"]
    ns.minutes = ns.minutes or form["minutes"]
    return ns


def main(argv: list[str] | None = None) -> int:
    ns = parse(argv)
    vendors = [v.strip() for v in ns.db.split(",") if v.strip()]
    if len(vendors) == 1:
        return run_one(vendors[0], ns)
    # One process per database: Django is set up once per process.
    status = 0
    for vendor in vendors:
        args = [a for a in (argv if argv is not None else sys.argv[1:])]
        args = _replace_option(args, "--db", vendor)
        if ns.json:
            args = _replace_option(args, "--json", f"{ns.json}.{vendor}.json")
        status |= subprocess.call([sys.executable, __file__, *args], timeout=ns.minutes * 60 + 1200)
    return status


def _replace_option(args: list[str], option: str, value: str) -> list[str]:
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == option:
            skip = True
            continue
        if arg.startswith(option + "="):
            continue
        out.append(arg)
    return [*out, option, value]


if __name__ == "__main__":
    sys.exit(main())
