"""What handing a job to a worker thread costs: ``runtime.pool.Pool`` against a
``ThreadPoolExecutor`` used as the worker used it (``submit`` + a done callback per job).

    python benchmarks/pool_dispatch.py            # 10 threads, batches of 10, 30,000 calls
    python benchmarks/pool_dispatch.py --threads 25 --batch 25

No database: the calls are empty, so what is measured is the hand-over itself (wall and CPU
time per call, best of ``--repeat``), the part of a no-op job's cost that the pool owns.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any


class ExecutorPool:
    """The executor the way the worker drove it before: one Future per call."""

    def __init__(self, size: int, on_idle: Callable[[], None]) -> None:
        self._executor = ThreadPoolExecutor(max_workers=size)
        self._on_idle = on_idle

    def post(self, func: Callable[..., Any], *args: Any) -> None:
        future = self._executor.submit(func, *args)
        future.add_done_callback(lambda _: self._on_idle())

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)


def measure(make: Callable[..., Any], threads: int, batch: int, calls: int) -> tuple[float, float]:
    """(wall µs, CPU µs) per call: post a batch, wait for all of it, again."""
    done = threading.Semaphore(0)
    pool = make(threads, lambda: None)
    rounds = calls // batch
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(rounds):
        for _ in range(batch):
            pool.post(done.release)
        for _ in range(batch):
            done.acquire()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    pool.shutdown()
    n = rounds * batch
    return wall / n * 1e6, cpu / n * 1e6


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from django_solidq.runtime.pool import Pool

    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=10)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--calls", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=3)
    ns = parser.parse_args()
    print(f"{ns.threads} threads, batches of {ns.batch}, {ns.calls:,} calls, best of {ns.repeat}")
    for name, make in (("ThreadPoolExecutor", ExecutorPool), ("runtime.pool.Pool", Pool)):
        runs = [measure(make, ns.threads, ns.batch, ns.calls) for _ in range(ns.repeat)]
        wall, cpu = min(runs)
        print(f"  {name:<20} {wall:6.1f} µs wall, {cpu:6.1f} µs CPU per call")


if __name__ == "__main__":
    main()
