"""Waiting: sync jobs a worker claimed ahead of its busy threads, in the order claimed — and
what the worker's supervisor can tell, after the worker died, about which of its claims were
never started.

While a backlog waits, a worker claims a few jobs more than it has idle threads for, so that a
thread that frees up starts its next job at once instead of waiting for a claim of its own.
Two promises stay as they were:

- **An unstarted job is not a lost attempt.** The worker shares a small block of memory with
  its supervisor (``shared_block``): the ids of its waiting jobs, and the highest claim id it
  has handed to a thread or its event loop (``handed``). If the worker process dies, the
  supervisor reads the block (``unstarted``) and gives back untouched every claim of the
  worker that is waiting, or newer than the last one handed out (a claim that committed while
  the worker died); only the others count a lost attempt. A job is marked handed *before* a
  thread can start it, so every race errs toward counting an attempt that never began — never
  toward hiding one (a job that kills its worker each time still meets its lost-attempt cap).
- **Long jobs don't hold short ones hostage.** A job that no thread started within the
  worker's ``prefetch_wait`` goes back to ready, for any worker to take (``expired``).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from typing import Any, NamedTuple

from django_solidq.models import Job

SLOT_BYTES = 16  # a job id (UUID)
EMPTY = bytes(SLOT_BYTES)


class Shared(NamedTuple):
    """The block a supervisor makes for one worker child: ``handed[0]`` is the highest claim
    id handed to a thread (one aligned 64-bit store: never torn), ``slots`` the ids of the
    jobs waiting (a torn id matches no claim, so it errs toward counting an attempt)."""

    handed: Any  # RawArray of one signed 64-bit integer
    slots: Any  # RawArray of capacity x 16 bytes


class Unstarted(NamedTuple):
    """What a dead worker's block says: the jobs it held waiting, and the claim id past which
    none of its claims was handed out."""

    job_ids: list[str]
    claimed_after: int


def shared_block(context: Any, capacity: int) -> tuple[Any, Any]:
    """Zeroed memory for one worker child (``context``: the supervisor's multiprocessing
    context); nothing handed out yet. A plain tuple of the two arrays, ``Shared``'s fields:
    a spawned child unpickles it before Django is set up, so before this module imports."""
    return context.RawArray("q", 1), context.RawArray("c", max(1, capacity) * SLOT_BYTES)


def unstarted(block: tuple[Any, Any] | None) -> Unstarted | None:
    """Read by the supervisor once the child is gone (nothing writes the block any more)."""
    if block is None:
        return None
    block = Shared(*block)
    raw = bytes(block.slots.raw)
    ids = []
    for start in range(0, len(raw) - SLOT_BYTES + 1, SLOT_BYTES):
        slot = raw[start : start + SLOT_BYTES]
        if slot != EMPTY:
            ids.append(str(uuid.UUID(bytes=slot)))
    return Unstarted(ids, int(block.handed[0]))


class Waiting:
    """At most ``capacity`` claimed jobs, oldest first; thread-safe. Without a ``block`` (thread
    mode: no supervisor outlives this process) it keeps the jobs only."""

    def __init__(self, capacity: int, block: tuple[Any, Any] | None = None) -> None:
        self.capacity = capacity
        self._block = Shared(*block) if block is not None else None
        self._jobs: deque[tuple[Job, int, float]] = deque()  # (job, slot, since)
        self._free = list(range(capacity - 1, -1, -1))
        self._returning: dict[str, int] = {}  # taken out, not yet back in ready: id -> slot
        self._closed = False
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._jobs)

    @property
    def space(self) -> int:
        with self._lock:
            return 0 if self._closed else len(self._free)

    def hand(self, job: Job) -> None:
        """``job`` goes to a thread or the event loop now: call before it can start."""
        with self._lock:
            self._handed(job)

    def put(self, job: Job) -> bool:
        """Keep ``job`` until a thread takes it; False if there is no room (or closed)."""
        with self._lock:
            if self._closed or not self._free:
                return False
            slot = self._free.pop()
            pk = job.pk if isinstance(job.pk, uuid.UUID) else uuid.UUID(str(job.pk))
            self._write(slot, pk.bytes)
            self._jobs.append((job, slot, time.monotonic()))
            return True

    def take(self) -> Job | None:
        """The oldest waiting job, handed to the thread about to start it."""
        with self._lock:
            if self._closed or not self._jobs:
                return None
            job, slot, _ = self._jobs.popleft()
            self._handed(job)
            self._forget(slot)
            return job

    def expired(self, wait: float) -> list[Job]:
        """Take out the jobs that have waited longer than ``wait`` seconds (they go back to
        ready). Their slots stay written until ``forget``: until the release commits, a crash
        must still find them unstarted."""
        deadline = time.monotonic() - wait
        out: list[tuple[Job, int, float]] = []
        with self._lock:
            while self._jobs and self._jobs[0][2] <= deadline:
                out.append(self._jobs.popleft())
            return self._given_back(out)

    def close(self) -> list[Job]:
        """Take out every waiting job (they go back to ready); no more are kept or taken."""
        with self._lock:
            self._closed = True
            out = list(self._jobs)
            self._jobs.clear()
            return self._given_back(out)

    def forget(self, jobs: list[Job]) -> None:
        """These taken-out jobs are back in ready (or dealt with otherwise): free their slots."""
        with self._lock:
            for job in jobs:
                slot = self._returning.pop(str(job.pk), None)
                if slot is not None:
                    self._forget(slot)

    def oldest_age(self) -> float | None:
        with self._lock:
            return time.monotonic() - self._jobs[0][2] if self._jobs else None

    # Called with the lock held ---------------------------------------------------------------
    def _given_back(self, entries: list[tuple[Job, int, float]]) -> list[Job]:
        for job, slot, _ in entries:
            self._returning[str(job.pk)] = slot
        return [job for job, _, _ in entries]

    def _handed(self, job: Job) -> None:
        claim = job.claimed
        if self._block is not None and claim is not None and claim.pk > self._block.handed[0]:
            self._block.handed[0] = claim.pk

    def _forget(self, slot: int) -> None:
        self._write(slot, EMPTY)
        self._free.append(slot)

    def _write(self, slot: int, value: bytes) -> None:
        if self._block is not None:
            self._block.slots[slot * SLOT_BYTES : (slot + 1) * SLOT_BYTES] = value
