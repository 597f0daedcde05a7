"""The job state machine as the tests drive it: every transition by its real entry point, and
the invariants that must hold after each one (tests/models/test_state_machine.py, and the stateful
property test in tests/models/test_state_properties.py).

Invariants:
1. every job is in exactly one execution table, or has ended (``finished_at``, no row);
2. for every concurrency key: ``Semaphore.value == limit - live permit holders`` (jobs of the
   key in ready or claimed), and never below zero;
3. a unique key is held (its row's value 0) iff a live job has it, and at most one live job
   has it;
4. no job of a key is blocked while the key has a free permit.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.tasks import TaskResult
from django.utils import timezone

from django_solidq import joblog
from django_solidq.exceptions import JobTimeout, ProcessExitError
from django_solidq.models import (
    BlockedExecution,
    ClaimedExecution,
    FailedExecution,
    Job,
    Process,
    ReadyExecution,
    ScheduledExecution,
    Semaphore,
)
from django_solidq.models.semaphore import UNIQUE_PREFIX
from django_solidq.runtime.execution import Recorder, perform
from tests.app.state_tasks import KINDS

TABLES = {
    "ready": ReadyExecution,
    "scheduled": ScheduledExecution,
    "claimed": ClaimedExecution,
    "blocked": BlockedExecution,
    "failed": FailedExecution,
}
WORKER = "state-test-worker"


def enqueue(kind: str, n: int, key: str = "a", mode: str = "ok", later: bool = False) -> Any:
    """Enqueue a job of ``kind``; returns its id (for a returned duplicate, the holder's)."""
    task = KINDS[kind]
    if later:
        task = task.using(run_after=timedelta(hours=1))
    result: TaskResult = task.enqueue(n, key=key, mode=mode)
    return result.id


def where(job_id: Any) -> str:
    """The table holding the job, or ``ended`` / ``discarded``."""
    for name, model in TABLES.items():
        if model.objects.filter(job_id=job_id).exists():
            return name
    job = Job.objects.get(id=job_id)
    return "discarded" if job.discarded_at else "ended"


def worker_process(name: str = "state-worker") -> Process:
    process, _ = Process.objects.get_or_create(
        name=name, defaults={"kind": "worker", "pid": 1, "hostname": "state-test"}
    )
    return process


# --- transitions, each by the entry point its caller uses ---------------------------------


def claim(limit: int = 1) -> list[Job]:
    return ReadyExecution.objects.claim(["*"], limit, worker_process().id)


def perform_claimed(job: Job) -> None:
    """Run a claimed job in-process the way a worker thread does (finish, fail, retry,
    discard by rule)."""
    perform(job, Recorder(WORKER))


def claimed_job(job_id: Any) -> Job:
    job = Job.objects.with_executions().get(id=job_id)
    assert job.claimed is not None, f"job {job_id} is {where(job_id)}, not claimed"
    return job


def dispatch_due() -> int:
    """The dispatcher's batch, with every scheduled job due now (time travel)."""
    ScheduledExecution.objects.update(scheduled_at=timezone.now() - timedelta(seconds=1))
    moved = 0
    while batch := ScheduledExecution.objects.dispatch_next_batch(500):
        moved += batch
    return moved


def discard(table: str, job_ids: list[Any]) -> int:
    return int(TABLES[table].objects.filter(job_id__in=job_ids).discard())


def run_now(table: str, job_ids: list[Any]) -> int:
    model = TABLES[table]
    return int(model.objects.filter(job_id__in=job_ids).run_now())


def admin_retry(job_ids: list[Any]) -> int:
    return FailedExecution.objects.filter(job_id__in=job_ids).retry()


def release_gracefully(job_ids: list[Any]) -> int:
    return ClaimedExecution.objects.filter(job_id__in=job_ids).release_all()


def recover_crashed(job_ids: list[Any]) -> int:
    """A worker died mid-attempt: its claims recovered as lost attempts."""
    return _recover(job_ids, ProcessExitError, "the worker died")


def time_out(job_ids: list[Any]) -> int:
    return _recover(job_ids, JobTimeout, "ran past its timeout")


def _recover(job_ids: list[Any], error_class: type[BaseException], message: str) -> int:
    """Lost-attempt recovery as the supervisor runs it: recorded, decided, logged."""
    losses = ClaimedExecution.objects.filter(job_id__in=job_ids).recover_lost(error_class, message)
    joblog.losses(losses)
    return len(losses)


def maintain() -> None:
    """The dispatcher's concurrency maintenance, after every blocked job's wait expired
    (permits kept their time: an expired permit is presumed lost with its holder, which
    the tests of that case set up themselves)."""
    BlockedExecution.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    Semaphore.objects.prune_expired()
    BlockedExecution.objects.unblock_expired()


# --- invariants -----------------------------------------------------------------------------


def placements() -> dict[str, list[str]]:
    placed: dict[str, list[str]] = {}
    for name, model in TABLES.items():
        for job_id in model.objects.values_list("job_id", flat=True):
            placed.setdefault(str(job_id), []).append(name)
    return placed


def check_invariants() -> list[str]:
    """Every broken invariant, as a sentence (empty when all hold)."""
    problems: list[str] = []
    placed = placements()
    for job in Job.objects.all():
        tables = placed.get(str(job.pk), [])
        ended = job.finished_at is not None
        if len(tables) > 1 or (ended and tables) or (not ended and not tables):
            problems.append(f"job {job.pk} ended={ended} is in {tables or 'no table'}")
    problems += _permit_problems()
    problems += _unique_problems()
    return problems


def _live_permit_holders() -> Counter[str]:
    holders = Job.objects.exclude(concurrency_key=None).filter(
        Q(readyexecution__isnull=False) | Q(claimedexecution__isnull=False)
    )
    return Counter(holders.values_list("concurrency_key", flat=True))


def _permit_problems() -> list[str]:
    problems = []
    holders = _live_permit_holders()
    semaphores = {s.key: s for s in Semaphore.objects.exclude(key__startswith=UNIQUE_PREFIX)}
    for key in set(holders) | set(semaphores):
        semaphore = semaphores.get(key)
        if semaphore is None:
            problems.append(f"key {key!r}: {holders[key]} holders and no semaphore")
            continue
        if semaphore.value != semaphore.limit - holders[key]:
            problems.append(
                f"key {key!r}: value {semaphore.value}, limit {semaphore.limit}, "
                f"{holders[key]} live holders"
            )
    blocked_keys = set(BlockedExecution.objects.values_list("concurrency_key", flat=True))
    for key in blocked_keys:
        semaphore = semaphores.get(key)
        if semaphore is None or semaphore.value > 0:
            problems.append(f"key {key!r}: jobs blocked while a permit is free")
    return problems


def _unique_problems() -> list[str]:
    problems = []
    live = Counter(Job.objects.live().exclude(unique_key=None).values_list("unique_key", flat=True))
    rows = {
        s.key.removeprefix(UNIQUE_PREFIX): s.value
        for s in Semaphore.objects.filter(key__startswith=UNIQUE_PREFIX)
    }
    for key in set(live) | set(rows):
        if live[key] > 1:
            problems.append(f"unique key {key!r}: {live[key]} live jobs")
        held = rows.get(key) == 0
        if held != bool(live[key]):
            problems.append(f"unique key {key!r}: row value {rows.get(key)}, {live[key]} live jobs")
    return problems


def assert_invariants(context: str = "") -> None:
    problems = check_invariants()
    assert not problems, f"{context}: " + "; ".join(problems)
