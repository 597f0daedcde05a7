"""Queue writes whose commit outcome may be lost with the connection.

When a connection drops while a transaction commits, the server may have committed while the
client sees only an error (MariaDB ``2013 Lost connection``). Guessing either way is wrong:
a retry of a write that did commit counts an attempt twice or fails on a claim that is gone;
giving up on one that did not commit loses it. So each write here, after such an error, asks
the database what happened, and writes again only what did not commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import IntegrityError, InterfaceError, OperationalError, connections
from django.utils import timezone

from django_solidq.conf import get_config, queue_database
from django_solidq.db_retry import retry_db_write
from django_solidq.models import ClaimedExecution, Job
from django_solidq.retries import Outcome

# What an attempt's bookkeeping changes on the job in memory: rewound before a retry, or the
# attempt would be counted twice.
ATTEMPT_FIELDS = (
    "worker_ids", "started_at", "last_attempted_at", "errors", "finished_at", "discarded_at",
    "return_value",
)  # fmt: skip


def finish(outcomes: Sequence[tuple[Job, Any]], worker_id: str) -> list[Job]:
    """``finish_all`` through transient errors. After a lost connection, a claim found gone
    is checked against its job: ended by an earlier try of this finish (committed after all:
    it counts as finished), or recovered by a pruner meanwhile (not ours)."""
    preserve = get_config().preserve_finished_jobs
    rewinds = [_rewinder(job) for job, _ in outcomes]
    tries = 0

    def attempt() -> list[Job]:
        nonlocal tries
        tries += 1
        for rewind in rewinds:
            rewind()
        finished = ClaimedExecution.objects.finish_all(outcomes, worker_id, preserve)
        if tries == 1:
            return finished
        rest = [(job, value) for job, value in outcomes if job not in finished]
        return [*finished, *_finished_before(rest, worker_id, preserve)]

    return retry_db_write(attempt, "recording finished jobs") or []


def _finished_before(
    outcomes: Sequence[tuple[Job, Any]], worker_id: str, preserve: bool
) -> list[Job]:
    """Jobs that an earlier try ended: kept, with this claim's attempt as their last and no
    discard; not kept, deleted (a recovery never deletes a job)."""
    if not outcomes:
        return []
    rows = Job.objects.filter(id__in=[job.pk for job, _ in outcomes]).values("id", *ATTEMPT_FIELDS)
    by_id = {str(row["id"]): row for row in rows}
    done = []
    for job, value in outcomes:
        claim = job.claimed
        assert claim is not None
        row = by_id.get(str(job.pk))
        if row is None and not preserve:
            job.record_attempt(worker_id, claim.created_at)
            job.finished_at, job.return_value = timezone.now(), value
            done.append(job)
        elif row and row["finished_at"] and not row["discarded_at"]:
            if row["last_attempted_at"] == claim.created_at:
                _reload(job, row)
                done.append(job)
    return done


def fail(
    claim: ClaimedExecution, job: Job, error: dict[str, Any], worker_id: str, outcome: Outcome
) -> bool:
    """``claim.fail`` through transient errors; True once the failed attempt is recorded
    (by this try or, the reply lost, an earlier one), False if a pruner took the claim."""
    rewind = _rewinder(job)
    tries = 0

    def attempt() -> bool:
        nonlocal tries
        tries += 1
        rewind()
        if claim.fail(job, error, worker_id, outcome):
            return True
        row = Job.objects.filter(id=job.pk).values(*ATTEMPT_FIELDS).first() if tries > 1 else None
        if row is None or error not in row["errors"]:
            return False
        _reload(job, row)
        return True

    return bool(retry_db_write(attempt, "recording a failed attempt"))


def _rewinder(job: Job) -> Callable[[], None]:
    saved = {name: getattr(job, name) for name in ATTEMPT_FIELDS}

    def rewind() -> None:
        for name, value in saved.items():
            setattr(job, name, value)

    return rewind


def _reload(job: Job, row: dict[str, Any]) -> None:
    for name in ATTEMPT_FIELDS:
        setattr(job, name, row[name])


def enqueue(job: Job) -> Job:
    """``Job.objects.enqueue(job)``: after a lost connection (outside the caller's
    transaction) the job is looked up by its id. Stored: done. Not stored: enqueued once
    more, a second failure raised. So an enqueue never raises for a job that will run, nor
    stores it twice."""
    return _enqueue(lambda: Job.objects.enqueue(job), [job], lambda stored: job)


def enqueue_all(jobs: Sequence[Job]) -> Sequence[Job]:
    """``Job.objects.enqueue_all(jobs)``, verified the same way (one transaction: any of the
    jobs stored means all were)."""

    def found(stored: set[str]) -> list[Job]:
        return [job if str(job.pk) in stored else _duplicate_of(job) for job in jobs]

    return _enqueue(lambda: Job.objects.enqueue_all(jobs), jobs, found)


def _enqueue[T](write: Callable[[], T], jobs: Sequence[Job], found: Callable[[set[str]], T]) -> T:
    for again in (False, True):
        try:
            return write()
        except (OperationalError, InterfaceError, IntegrityError) as exc:
            connection = connections[queue_database()]
            if connection.in_atomic_block or (isinstance(exc, IntegrityError) and not again):
                raise  # the caller's transaction decides; or an integrity error of its own
            connection.close_if_unusable_or_obsolete()
            ids = Job.objects.filter(id__in=[job.pk for job in jobs]).values_list("id", flat=True)
            stored = {str(pk) for pk in ids}
            if stored:
                return found(stored)  # it committed: the reply was lost, not the jobs
            if again:
                raise
    raise AssertionError("unreachable")


def _duplicate_of(job: Job) -> Job:
    """A unique job that an enqueue did not store: the live job holding its key."""
    live = Job.objects.live().filter(unique_key=job.unique_key) if job.unique_key else None
    return (live.first() if live is not None else None) or job
