"""The chaos soak's moving parts: hosts (``runjobs`` supervisors), the monitor that samples
claims, and the monkey that kills, restarts and terminates things on a seeded timeline.

Only processes this harness started are ever signalled: a host's own process group, or a
worker pid that is a child of one of our hosts.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.chaos_servers import Server

REPO = Path(__file__).resolve().parents[1]


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def child_pids(parent: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent:
            pids.append(int(stat.parent.name))
    return pids


class Host:
    """One ``runjobs`` supervisor standing in for a host, in its own process group."""

    def __init__(self, name: str, env: dict[str, str], logdir: Path, *args: str) -> None:
        self.name = name
        self.log_path = logdir / f"{name}.log"
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "django", "runjobs", *args],
            cwd=REPO,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def children(self) -> list[int]:
        return child_pids(self.pid) if self.alive() else []

    def term(self, timeout: float) -> int | None:
        """Graceful stop; the exit status, or None if it did not stop in time."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def diagnose(self, reason: str) -> None:
        """Append the Python stacks of the supervisor and its children to the host's log
        (py-spy, when installed): what a host that ignores TERM is stuck in."""
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if not Path(spy).exists():
            return
        with open(self.log_path, "a") as log:
            log.write(f"\n=== chaos harness: {reason}; stacks (py-spy dump) ===\n")
        for pid in [self.pid, *self.children()]:
            with open(self.log_path, "ab") as log:
                subprocess.run([spy, "dump", "--pid", str(pid)], stdout=log, stderr=log, timeout=30)

    def kill_group(self) -> list[int]:
        """kill -9 the supervisor and every child (a host lost at once); the pids killed."""
        pids = [self.pid, *self.children()]
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)
        return pids

    def close(self) -> None:
        """Cleanup: whatever is left of the group goes, then the log is closed."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.proc.poll() is None:
            self.proc.wait(10)
        self._log.close()


@dataclass
class Fleet:
    """The hosts of a soak (two at a time), replaced as the monkey kills or rolls them."""

    env: dict[str, str]
    logdir: Path
    args: tuple[str, ...] = ()
    hosts: dict[str, Host] = field(default_factory=dict)
    retired: list[Host] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: int = 0

    def start(self, slot: str, *args: str) -> Host:
        with self.lock:
            self.started += 1
            host = Host(f"{slot}-{self.started}", self.env, self.logdir, *self.args, *args)
            old = self.hosts.get(slot)
            if old is not None:
                self.retired.append(old)
            self.hosts[slot] = host
            return host

    def worker_pids(self, registered: dict[int, str]) -> list[int]:
        """Live worker processes of our hosts (kind from the process registry)."""
        with self.lock:
            ours = {pid for host in self.hosts.values() for pid in host.children()}
        return sorted(pid for pid in ours if registered.get(pid) == "worker" and pid_alive(pid))

    def close(self) -> None:
        for host in [*self.hosts.values(), *self.retired]:
            host.close()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class Monitor:
    """Samples claims and the process registry every ``interval`` seconds, on its own
    connection. A claim held by a live process longer than the alive threshold is *stuck*;
    a claim whose process is dead or gone is *orphaned* until someone recovers it."""

    server: Server
    threshold: float
    interval: float = 0.5
    registered: dict[int, str] = field(default_factory=dict)
    samples: int = 0
    failed_samples: int = 0
    stuck: dict[str, float] = field(default_factory=dict)  # job id -> oldest age seen
    orphaned_since: dict[str, float] = field(default_factory=dict)
    longest_orphan: float = 0.0
    longest_orphan_job: str = ""
    max_claim_age: float = 0.0
    long_transactions: list[tuple[Any, ...]] = field(default_factory=list)  # the worst seen
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _conn: Any = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chaos-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        self._close()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sample()
                self.samples += 1
            except Exception:
                self.failed_samples += 1
                self._close()

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
            self._conn = None

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        if self._conn is None:
            self._conn = self.server.connect(timeout=2)
        cursor = self._conn.cursor()
        cursor.execute(sql)
        return list(cursor.fetchall())

    def sample(self) -> None:
        processes = self._rows("SELECT id, pid, kind FROM solidq_processes")
        claims = self._rows("SELECT job_id, process_id, created_at FROM solidq_claimed_executions")
        long = self._rows(self.server.LONG_TRANSACTIONS)
        if long and float(long[0][0]) > float(
            self.long_transactions[0][1] if self.long_transactions else 0
        ):
            self.long_transactions = [(time.time(), *row) for row in long][:10]
        now = time.time()
        self.registered = {pid: kind for _, pid, kind in processes}
        by_id = {pk: pid for pk, pid, _ in processes}
        seen = set()
        for job_id, process_id, created_at in claims:
            job = str(job_id).replace("-", "")
            age = now - _aware(created_at).timestamp()
            self.max_claim_age = max(self.max_claim_age, age)
            pid = by_id.get(process_id)
            if pid is not None and pid_alive(pid):
                if age > self.threshold:
                    self.stuck[job] = max(age, self.stuck.get(job, 0.0))
                continue
            seen.add(job)
            since = self.orphaned_since.setdefault(job, now)
            if now - since > self.longest_orphan:
                self.longest_orphan, self.longest_orphan_job = now - since, job
        for job in set(self.orphaned_since) - seen:
            del self.orphaned_since[job]


@dataclass
class Event:
    at: float
    name: str
    detail: str = ""
    error: str = ""


@dataclass
class Monkey:
    """Chaos on a seeded timeline: a worker kill every ``kill_every`` seconds, and every
    ``cycle`` seconds the big events in turn, evenly spaced: terminate the database's
    backends, kill -9 a whole host and start a replacement, restart the database server
    (crash and clean stop alternately), a rolling TERM of every host, terminate backends."""

    fleet: Fleet
    server: Server
    monitor: Monitor
    seconds: float
    seed: int
    cycle: float = 100.0
    kill_every: tuple[float, float] = (3.0, 7.0)
    term_timeout: float = 30.0
    events: list[Event] = field(default_factory=list)
    kills: dict[int, float] = field(default_factory=dict)  # pid -> when we SIGKILLed it
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _restarts: int = 0
    longest_outage: float = 0.0
    ignored_term: int = 0  # hosts still running term_timeout after a TERM

    BIG = (
        "terminate_backends",
        "kill_host",
        "restart_database",
        "rolling_term",
        "terminate_backends",
    )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chaos-monkey", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.term_timeout * 3)

    def _run(self) -> None:
        rng = random.Random(self.seed)
        began = time.monotonic()
        next_kill = began + rng.uniform(*self.kill_every)
        step = self.cycle / len(self.BIG)
        big = 0
        next_big = began + step / 2
        while not self._stop.is_set() and time.monotonic() - began < self.seconds:
            self._revive()
            now = time.monotonic()
            if now >= next_big:
                self._do(self.BIG[big % len(self.BIG)], rng)
                big += 1
                next_big = began + step / 2 + big * step
            elif now >= next_kill:
                self._do("kill_worker", rng)
                next_kill = time.monotonic() + rng.uniform(*self.kill_every)
            self._stop.wait(min(0.2, max(0.0, min(next_big, next_kill) - time.monotonic())))

    def _revive(self) -> None:
        """A host that died on its own (not by our hand) is a finding; restart it, as a
        process manager would."""
        for slot, host in list(self.fleet.hosts.items()):
            if not host.alive():
                status = host.proc.returncode
                self.fleet.start(slot)
                self.events.append(Event(time.time(), "host_died", f"{host.name} exit {status}"))

    def _do(self, name: str, rng: random.Random) -> None:
        event = Event(time.time(), name)
        try:
            event.detail = getattr(self, name)(rng)
        except Exception as exc:
            event.error = f"{type(exc).__name__}: {exc}"
        self.events.append(event)

    def kill_worker(self, rng: random.Random) -> str:
        pids = self.fleet.worker_pids(self.monitor.registered)
        if not pids:
            return "no live worker to kill"
        pid = rng.choice(pids)
        self.kills[pid] = time.time()
        os.kill(pid, signal.SIGKILL)
        return f"pid {pid}"

    def kill_host(self, rng: random.Random) -> str:
        slot = rng.choice(sorted(self.fleet.hosts))
        host = self.fleet.hosts[slot]
        killed_at = time.time()
        pids = host.kill_group()
        for pid in pids:
            self.kills[pid] = killed_at
        self._stop.wait(2.0)
        replacement = self.fleet.start(slot)
        return f"{host.name} ({len(pids)} processes) -> {replacement.name}"

    def restart_database(self, rng: random.Random) -> str:
        crash = self._restarts % 2 == 0
        self._restarts += 1
        down = self.server.restart(crash=crash)
        self.longest_outage = max(self.longest_outage, down)
        return f"{'crash (SIGKILL/immediate)' if crash else 'clean stop'}, down {down:.1f}s"

    def rolling_term(self, rng: random.Random) -> str:
        parts = []
        for slot in sorted(self.fleet.hosts):
            host = self.fleet.hosts[slot]
            began = time.monotonic()
            status = host.term(self.term_timeout)
            if status is None:
                self.ignored_term += 1
                host.diagnose(f"no exit {self.term_timeout:.0f}s after TERM")
            replacement = self.fleet.start(slot)
            self._wait_registered(replacement)
            took = time.monotonic() - began
            parts.append(f"{host.name} exit {status} in {took:.1f}s -> {replacement.name}")
        return "; ".join(parts)

    def _wait_registered(self, host: Host, count: int = 4) -> None:
        """Until the host's workers, dispatcher and scheduler are registered (bounded): a
        rolling restart stops the next host only once this one is really up, as a careful
        deploy does (a scheduler boots in seconds on a busy machine; ticks are not replayed)."""
        deadline = time.monotonic() + self.term_timeout * 2
        while time.monotonic() < deadline and host.alive() and not self._stop.is_set():
            if len(set(host.children()) & set(self.monitor.registered)) >= count:
                return
            time.sleep(0.2)

    def terminate_backends(self, rng: random.Random) -> str:
        return f"{self.server.terminate_backends()} connections"
