"""What the chaos soak checks, from the ledger (what the jobs did) and the queue tables (what
django_solidq recorded). Every function is pure: rows in, numbers out."""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django_solidq.exceptions import LOST_ATTEMPT_ERRORS

LOST = LOST_ATTEMPT_ERRORS | {"django_solidq.exceptions.JobTimeout"}
KIND_OF_TASK = {
    "benchmarks.chaos_tasks.fast": "fast",
    "benchmarks.chaos_tasks.slow": "slow",
    "benchmarks.chaos_tasks.delayed": "delayed",
    "benchmarks.chaos_tasks.flaky": "flaky",
    "benchmarks.chaos_tasks.limited": "limited",
    "benchmarks.chaos_tasks.uniq": "unique",
    "benchmarks.chaos_tasks.tick": "tick",
}


def norm(job_id: Any) -> str:
    return str(job_id).replace("-", "").lower()


def stamp(value: datetime | None) -> float | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


@dataclass(frozen=True)
class Run:
    job: str
    kind: str
    key: str
    attempt: int
    pid: int
    event: str
    at: float


@dataclass(frozen=True)
class JobRow:
    id: str
    kind: str
    token: str
    enqueued_at: float
    scheduled_at: float | None
    finished_at: float | None
    discarded: bool
    failed: bool
    lost_attempts: int


def job_rows(values: Iterable[dict[str, Any]], failed_ids: set[str]) -> list[JobRow]:
    rows = []
    for v in values:
        errors = v["errors"] or []
        rows.append(
            JobRow(
                id=norm(v["id"]),
                kind=KIND_OF_TASK.get(v["task_path"], v["task_path"]),
                token=str(v["args"][0]) if v["args"] else "",
                enqueued_at=stamp(v["enqueued_at"]) or 0.0,
                scheduled_at=stamp(v["scheduled_at"]),
                finished_at=stamp(v["finished_at"]),
                discarded=v["discarded_at"] is not None,
                failed=norm(v["id"]) in failed_ids,
                lost_attempts=sum(1 for e in errors if e.get("exception_class_path") in LOST),
            )
        )
    return rows


def completions(runs: list[Run], jobs: list[JobRow]) -> dict[str, Any]:
    """Every job ended once; twice only where a lost attempt is recorded on it."""
    ends = Counter(r.job for r in runs if r.event == "end")
    unexplained = [
        j.id for j in jobs if ends[j.id] > 1 + j.lost_attempts
    ]  # ran to the end more often than the losses recorded on it allow
    ended_without_running = [
        j.id for j in jobs if j.finished_at and not j.discarded and not j.failed and not ends[j.id]
    ]
    known = {j.id for j in jobs}
    return {
        "jobs": len(jobs),
        "completed": sum(1 for j in jobs if ends[j.id]),
        "duplicates": sum(max(0, ends[j.id] - 1) for j in jobs),
        "duplicates_without_lost_attempt": len(unexplained),
        "duplicate_examples": unexplained[:5],
        "lost_attempts_recorded": sum(j.lost_attempts for j in jobs),
        "jobs_with_lost_attempts": sum(1 for j in jobs if j.lost_attempts),
        "finished_without_a_run": len(ended_without_running),
        "unfinished": sorted(j.id for j in jobs if not j.finished_at and not j.failed)[:20],
        "unfinished_count": sum(1 for j in jobs if not j.finished_at and not j.failed),
        "unfinished_kinds": dict(
            Counter(j.kind for j in jobs if not j.finished_at and not j.failed)
        ),
        "failed": sum(1 for j in jobs if j.failed),
        "discarded": sum(1 for j in jobs if j.discarded),
        "runs_of_unknown_jobs": len({r.job for r in runs} - known),
    }


def enqueue_accounting(
    acknowledged: dict[str, str], jobs: list[JobRow], returned_at: dict[str, float] | None = None
) -> dict[str, Any]:
    """Every enqueue the feeder saw succeed has a job. A token has two jobs when the feeder
    retried a batch whose first try had committed (client side, harmless), or, for a unique
    job, when its duplicate enqueue came after the first had ended; two *live* jobs of one
    unique key at once break the promise.

    When did the second job become live? Its ``enqueued_at`` is stamped before its enqueue
    transaction, which may wait for the first job's finish to commit (both take the key's
    lock): then the second is stamped before the first's ``finished_at`` yet was never live
    with it. So the second job counts from when its enqueue call returned (``returned_at``,
    recorded by the feeder; its commit had happened by then), and two jobs were live at once
    only if that is before the first's ``finished_at`` (stamped before the finish commits).
    Without a return time (a call whose reply was lost), ``enqueued_at`` is used."""
    returned_at = returned_at or {}
    by_token: dict[str, list[JobRow]] = defaultdict(list)
    for j in jobs:
        if j.kind != "tick":
            by_token[j.token].append(j)
    unique_live_twice = 0
    for token_jobs in by_token.values():
        token_jobs.sort(key=lambda j: j.enqueued_at)
        if token_jobs[0].kind == "unique" and any(
            returned_at.get(b.id, b.enqueued_at) < (a.finished_at or float("inf"))
            for a, b in itertools.pairwise(token_jobs)
        ):
            unique_live_twice += 1
    return {
        "acknowledged": len(acknowledged),
        "acknowledged_without_job": sum(1 for t in acknowledged if not by_token.get(t)),
        "tokens_with_two_jobs": sum(1 for t in acknowledged if len(by_token.get(t, [])) > 1),
        "unique_keys_live_twice": unique_live_twice,
    }


@dataclass(frozen=True)
class Span:
    kind: str
    key: str
    start: float
    end: float


def run_intervals(runs: list[Run], kills: dict[int, float], end_of_soak: float) -> list[Span]:
    """Each attempt as (start, end): a killed attempt ends when its process was killed; one
    that ended otherwise without a ledger row (its process stopped) ends when the next
    attempt of its job began, or at the end of the soak."""
    by_attempt: dict[tuple[str, int, int], list[Run]] = defaultdict(list)
    for r in runs:
        by_attempt[(r.job, r.attempt, r.pid)].append(r)
    starts_of_job: dict[str, list[float]] = defaultdict(list)
    for r in runs:
        if r.event == "start":
            starts_of_job[r.job].append(r.at)
    intervals = []
    for rows in by_attempt.values():
        start = next((r for r in rows if r.event == "start"), None)
        if start is None:
            continue
        stop = next((r.at for r in rows if r.event in ("end", "fail")), None)
        if stop is None:
            later = [t for t in starts_of_job[start.job] if t > start.at]
            stop = kills.get(start.pid) or (min(later) if later else end_of_soak)
        intervals.append(Span(start.kind, start.key, start.at, stop))
    return intervals


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    current = peak = 0
    for _, delta in edges:
        current += delta
        peak = max(peak, current)
    return peak


def limits(intervals: list[Span], limit: int) -> dict[str, Any]:
    """Concurrent holders per key, from the runs' start and end times."""
    by_key: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for r in intervals:
        if r.kind in ("limited", "unique"):
            by_key[(r.kind, r.key)].append((r.start, r.end))
    peaks = {key: most_at_once(spans) for key, spans in by_key.items()}
    limited = [p for (kind, _), p in peaks.items() if kind == "limited"]
    unique = [p for (kind, _), p in peaks.items() if kind == "unique"]
    return {
        "limit": limit,
        "limited_peak": max(limited, default=0),
        "limited_keys_over_limit": sum(1 for p in limited if p > limit),
        "unique_peak": max(unique, default=0),
        "unique_keys_run_twice_at_once": sum(1 for p in unique if p > 1),
    }


def recurring(ticks: list[tuple[datetime, str | None]], jobs: list[JobRow]) -> dict[str, Any]:
    """Each tick (second) enqueued once; every tick job has its tick row."""
    per_second = Counter(int(stamp(run_at) or 0) for run_at, _ in ticks)
    tick_job_ids = {norm(job_id) for _, job_id in ticks if job_id}
    tick_jobs = [j for j in jobs if j.kind == "tick"]
    seconds = sorted(per_second)
    missed = (seconds[-1] - seconds[0] + 1 - len(seconds)) if seconds else 0
    gaps = [f"{_hms(a + 1)}..{_hms(b - 1)}" for a, b in itertools.pairwise(seconds) if b - a > 1]
    return {
        "ticks": len(ticks),
        "ticks_enqueued_twice": sum(1 for n in per_second.values() if n > 1),
        "tick_jobs": len(tick_jobs),
        "tick_jobs_without_tick_row": sum(1 for j in tick_jobs if j.id not in tick_job_ids),
        "seconds_without_tick": missed,
        "gaps": gaps[:10],
    }


def _hms(second: float) -> str:
    return f"{datetime.fromtimestamp(second, UTC):%H:%M:%S}"


def delays(runs: list[Run], jobs: list[JobRow]) -> dict[str, Any]:
    """Enqueue -> first start latency of due jobs, and delayed jobs that started early."""
    first_start: dict[str, float] = {}
    for r in runs:
        if r.event == "start" and (r.job not in first_start or r.at < first_start[r.job]):
            first_start[r.job] = r.at
    latency = sorted(
        first_start[j.id] - j.enqueued_at
        for j in jobs
        if j.id in first_start and j.kind not in ("delayed", "tick", "limited")
    )
    early = [
        j.id
        for j in jobs
        if j.kind == "delayed"
        and j.id in first_start
        and first_start[j.id] < (j.scheduled_at or 0) - 0.01
    ]
    return {
        "latency_p50": _pct(latency, 0.50),
        "latency_p95": _pct(latency, 0.95),
        "latency_p99": _pct(latency, 0.99),
        "latency_max": latency[-1] if latency else None,
        "delayed_started_early": len(early),
    }


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def throughput(runs: list[Run], jobs: list[JobRow], first_enqueue: float) -> dict[str, Any]:
    """Fed jobs (not ticks) per second, from the first enqueue to the last one's end."""
    fed = {j.id for j in jobs if j.kind != "tick"}
    last_end = max((r.at for r in runs if r.event == "end" and r.job in fed), default=None)
    if last_end is None:
        return {"jobs_per_second": None, "seconds": None}
    seconds = last_end - first_enqueue
    return {"jobs_per_second": len(fed) / seconds, "seconds": seconds}


def verdict(report: dict[str, Any]) -> list[str]:
    """The failed checks, each one line; empty when the soak passed."""
    c, e, lim = report["completions"], report["enqueues"], report["limits"]
    rec, mon, d = report["recurring"], report["claims"], report["delays"]
    stuck, died = mon["stuck"], report["event_counts"].get("host_died", 0)
    checks = [
        (
            c["unfinished_count"] == 0,
            f"{c['unfinished_count']} job(s) never ended: {c['unfinished_kinds']}",
        ),
        (c["failed"] == 0, f"{c['failed']} job(s) failed for good"),
        (
            c["finished_without_a_run"] == 0,
            f"{c['finished_without_a_run']} job(s) finished without a run in the ledger",
        ),
        (
            e["acknowledged_without_job"] == 0,
            f"{e['acknowledged_without_job']} acknowledged enqueue(s) without a job",
        ),
        (
            c["duplicates_without_lost_attempt"] == 0,
            f"{c['duplicates_without_lost_attempt']} job(s) completed twice without a recorded"
            f" lost attempt: {c['duplicate_examples']}",
        ),
        (
            lim["limited_keys_over_limit"] == 0,
            f"concurrency limit exceeded: peak {lim['limited_peak']} > {lim['limit']}",
        ),
        (
            e["unique_keys_live_twice"] == 0,
            f"{e['unique_keys_live_twice']} unique key(s) had two live jobs at once",
        ),
        (
            lim["unique_keys_run_twice_at_once"] == 0,
            f"{lim['unique_keys_run_twice_at_once']} unique key(s) ran twice at once",
        ),
        (rec["ticks_enqueued_twice"] == 0, f"{rec['ticks_enqueued_twice']} tick(s) enqueued twice"),
        (
            rec["tick_jobs_without_tick_row"] == 0,
            f"{rec['tick_jobs_without_tick_row']} tick job(s) without their tick row",
        ),
        (
            rec["seconds_without_tick"] == 0,
            f"{rec['seconds_without_tick']} second(s) without a recurring tick: {rec['gaps']}",
        ),
        (
            not stuck,
            f"{len(stuck)} claim(s) held by a live process longer than the alive threshold"
            f" (+ outage allowance): {dict(list(stuck.items())[:3])}",
        ),
        (
            mon["longest_orphan"] <= mon["orphan_allowance"],
            f"a dead process's claim went unrecovered for {mon['longest_orphan']:.1f}s"
            f" (allowed {mon['orphan_allowance']:.1f}s), job {mon['longest_orphan_job']}",
        ),
        (
            d["delayed_started_early"] == 0,
            f"{d['delayed_started_early']} delayed job(s) started before their time",
        ),
        (
            report["feeder"]["failed_batches"] == 0,
            f"{report['feeder']['failed_batches']} enqueue batch(es) failed for good",
        ),
        (not died, f"{died} supervisor(s) died on their own (see events)"),
        (
            not report["hosts_that_ignored_term"],
            f"{report['hosts_that_ignored_term']} host(s) still running 30 s after TERM (stacks"
            " in their log); seen when a supervisor crashed in a database outage and then"
            " waited for its children at exit (docs/reliability.md, defect 1)",
        ),
    ]
    return [message for ok, message in checks if not ok]
