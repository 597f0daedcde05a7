"""What every runner shares: the job body, the command line, the timed enqueue loops.

Standard library only (every runner imports it at its top level).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Config:
    """One configuration of a system: ``name`` is a key, ``label`` what the table shows.
    ``default`` marks the configuration a user gets from the system's documentation;
    ``processes`` is how many worker processes it runs (targets "with one process" read it)."""

    name: str
    label: str
    default: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    processes: int = 1


# -- the job ----------------------------------------------------------------------------------


def record_line(tag: str = "") -> None:
    """The neutral job: append ``<start time> <tag>`` to ``BENCH_OUT`` (one ``write`` of a
    short line on an ``O_APPEND`` file: lines of concurrent processes never mix)."""
    started = time.time()
    with open(os.environ["BENCH_OUT"], "a") as out:
        out.write(f"{started:.6f} {tag}\n")


def sleep_line(seconds: float) -> None:
    """An I/O-bound sync job: sleep, then record (the line carries the start time)."""
    started = time.time()
    time.sleep(seconds)
    with open(os.environ["BENCH_OUT"], "a") as out:
        out.write(f"{started:.6f} sleep\n")


async def async_sleep_line(seconds: float) -> None:
    """An I/O-bound async job: ``await asyncio.sleep``, then record."""
    started = time.time()
    await asyncio.sleep(seconds)
    with open(os.environ["BENCH_OUT"], "a") as out:
        out.write(f"{started:.6f} async\n")


# -- timed enqueue loops --------------------------------------------------------------------


def time_single(enqueue_one: Callable[[], Any], n: int, warmup: int = 20) -> dict[str, Any]:
    """``enqueue_one()`` n times in a loop (after ``warmup`` calls), one job per call."""
    for _ in range(min(warmup, n)):
        enqueue_one()
    began = time.perf_counter()
    for _ in range(n):
        enqueue_one()
    seconds = time.perf_counter() - began
    return {"n": n, "seconds": seconds, "rate": n / seconds}


def time_bulk(enqueue_many: Callable[[int], Any], n: int, per_call: int) -> dict[str, Any]:
    """``enqueue_many(k)`` in calls of ``per_call`` jobs until n; list building included."""
    enqueue_many(min(10, per_call))  # warm-up: connection, first-query caches
    began = time.perf_counter()
    left = n
    while left > 0:
        k = min(per_call, left)
        enqueue_many(k)
        left -= k
    seconds = time.perf_counter() - began
    return {"n": n, "per_call": per_call, "seconds": seconds, "rate": n / seconds}


def paced(enqueue_tagged: Callable[[str], Any], n: int, spacing: float) -> dict[str, Any]:
    """The latency probe: one job every ``spacing`` s; each job's tag is ``time.time()``
    just before its enqueue call, so the job's line gives call -> start."""
    next_at = time.perf_counter()
    for _ in range(n):
        enqueue_tagged(f"{time.time():.6f}")
        next_at += spacing
        pause = next_at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    return {"n": n, "spacing": spacing}


# -- the command line -------------------------------------------------------------------------

KINDS = ("line", "sleep", "async")


@dataclass
class Runner:
    """A system's commands; each returns a JSON-able dict. ``load`` pre-loads untimed jobs
    of a kind (``line``, ``sleep``: 20 ms sync sleep, ``async``: 50 ms ``asyncio.sleep``)."""

    version: Callable[[], dict[str, Any]]
    setup: Callable[[], None]
    reset: Callable[[], None]
    load: Callable[[str, int, float], None]
    single: Callable[[int], dict[str, Any]]
    bulk: Callable[[int, int], dict[str, Any]]
    latency: Callable[[int, float], dict[str, Any]]
    prepare: Callable[[], None] = lambda: None  # e.g. django.setup(); runs before any command


def serve(runner: Runner, argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("version")
    sub.add_parser("setup")
    sub.add_parser("reset")
    p = sub.add_parser("load")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("n", type=int)
    p.add_argument("--seconds", type=float, default=0.0)
    p = sub.add_parser("single")
    p.add_argument("n", type=int)
    p = sub.add_parser("bulk")
    p.add_argument("n", type=int)
    p.add_argument("--per-call", type=int, default=1000)
    p = sub.add_parser("latency")
    p.add_argument("n", type=int)
    p.add_argument("--spacing", type=float, default=0.05)
    for name in ("load", "single", "bulk"):  # --reset: empty the queue first (one process fewer)
        sub.choices[name].add_argument("--reset", action="store_true")
    ns = parser.parse_args(argv)
    try:
        if ns.command != "version":
            runner.prepare()
        out: dict[str, Any]
        if getattr(ns, "reset", False):
            runner.reset()
        if ns.command == "version":
            out = runner.version()
        elif ns.command in ("setup", "reset"):
            getattr(runner, ns.command)()
            out = {"ok": True}
        elif ns.command == "load":
            began = time.perf_counter()
            runner.load(ns.kind, ns.n, ns.seconds)
            out = {"n": ns.n, "seconds": time.perf_counter() - began}
        elif ns.command == "single":
            out = runner.single(ns.n)
        elif ns.command == "bulk":
            out = runner.bulk(ns.n, ns.per_call)
        else:
            out = runner.latency(ns.n, ns.spacing)
    except Exception as exc:  # reported to the orchestrator as a failed measurement
        out = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(out), flush=True)
    return 1 if "error" in out else 0


def main_exit(runner: Runner) -> None:
    sys.exit(serve(runner))
