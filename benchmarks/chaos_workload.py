"""The chaos soak's job mix and its feeder (enqueues paced batches through the real API)."""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

# kind -> share of the jobs. Unique jobs are enqueued twice each (the second returns the first).
MIX = {
    "fast": 0.62,
    "slow": 0.06,
    "delayed": 0.08,
    "flaky": 0.08,
    "limited": 0.10,
    "unique": 0.06,
}
LIMITED_KEYS = 5


@dataclass(frozen=True)
class Spec:
    kind: str
    token: str
    params: dict[str, Any]


def job_mix(count: int, seed: int) -> list[Spec]:
    """``count`` job specs in a shuffled, reproducible order."""
    rng = random.Random(seed)
    kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=count)
    return [
        Spec(kind, uuid.UUID(int=rng.getrandbits(128)).hex, _params(kind, rng)) for kind in kinds
    ]


def _params(kind: str, rng: random.Random) -> dict[str, Any]:
    if kind == "slow":
        return {"seconds": round(rng.uniform(0.2, 1.0), 3)}
    if kind == "delayed":
        return {"delay": round(rng.uniform(1.0, 20.0), 3)}
    if kind == "flaky":
        return {"failures": rng.randint(1, 2)}
    if kind == "limited":
        return {
            "key": f"k{rng.randrange(LIMITED_KEYS)}",
            "seconds": round(rng.uniform(0.02, 0.15), 3),
        }
    if kind == "unique":
        return {"seconds": round(rng.uniform(0.0, 0.3), 3)}
    return {}


def bound(spec: Spec) -> Any:
    """The spec as a bound task, ready for ``enqueue_all``."""
    from benchmarks import chaos_tasks as t

    p = spec.params
    if spec.kind == "slow":
        return t.slow.bind(spec.token, p["seconds"])
    if spec.kind == "delayed":
        return t.delayed.using(run_after=timedelta(seconds=p["delay"])).bind(spec.token)
    if spec.kind == "flaky":
        return t.flaky.bind(spec.token, p["failures"])
    if spec.kind == "limited":
        return t.limited.bind(spec.token, p["key"], p["seconds"])
    if spec.kind == "unique":
        return t.uniq.bind(spec.token, p["seconds"])
    return t.fast.bind(spec.token)


@dataclass
class Feeder:
    """Enqueues the specs in batches every ``interval`` seconds over ``seconds`` seconds.

    An enqueue that fails (database restarting, connection killed) is retried after a pause,
    for at most ``give_up_after`` seconds; a retried batch may have committed the first time,
    which the checks count as ``enqueued twice by a client retry`` (not a queue defect)."""

    specs: list[Spec]
    seconds: float
    interval: float = 0.5
    give_up_after: float = 120.0
    acknowledged: dict[str, str] = field(default_factory=dict)
    # unique jobs: job id -> when the enqueue call that returned it returned (its commit had
    # happened by then); the first call to return a job id sets it
    returned_at: dict[str, float] = field(default_factory=dict)
    retried_batches: int = 0
    failed_batches: int = 0
    first_enqueue: float = 0.0
    last_enqueue: float = 0.0
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chaos-feeder", daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> bool:
        assert self._thread is not None
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        from django.db import connections

        batches = max(1, int(self.seconds / self.interval))
        size = -(-len(self.specs) // batches)
        began = time.monotonic()
        self.first_enqueue = time.time()
        try:
            for number, start in enumerate(range(0, len(self.specs), size)):
                _sleep_until(began + number * self.interval)
                self._enqueue_with_retries(self.specs[start : start + size])
        finally:
            self.last_enqueue = time.time()
            connections.close_all()

    def _enqueue_with_retries(self, batch: list[Spec]) -> None:
        from django.db import connections

        deadline = time.monotonic() + self.give_up_after
        while True:
            try:
                self._enqueue(batch)
                return
            except Exception:
                connections.close_all()
                if time.monotonic() > deadline:
                    self.failed_batches += 1
                    return
                self.retried_batches += 1
                time.sleep(0.5)

    def _enqueue(self, batch: list[Spec]) -> None:
        from django_solidq import enqueue_all

        plain = [s for s in batch if s.kind != "unique"]
        if plain:
            enqueue_all([bound(s) for s in plain])
        for spec in batch:
            if spec.kind == "unique":
                task = bound(spec)
                for _ in range(2):  # the second is a duplicate: returns the first's job
                    result = task.task.enqueue(*task.args, **task.kwargs)
                    self.returned_at.setdefault(result.id.replace("-", "").lower(), time.time())
        for spec in batch:
            self.acknowledged[spec.token] = spec.kind


def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)
