"""ClaimedExecution: a job a worker has taken and is running."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, NamedTuple, Self

from django.db import models
from django.db.models import Q
from django.utils import timezone

from django_solidq.conf import queue_database
from django_solidq.errors import error_entry
from django_solidq.ops import ops_for
from django_solidq.ops.rows import raw_delete
from django_solidq.retries import Outcome, decide, task_at

from .base import queue_atomic
from .execution import Execution, ExecutionQuerySet
from .failed_execution import FailedExecution
from .job import Job
from .semaphore import Semaphore

# Columns every ended attempt writes on its job (see ``Job.record_attempt``).
ATTEMPT_COLUMNS = ("worker_ids", "last_attempted_at", "started_at")


class Loss(NamedTuple):
    """An attempt lost with its worker, as recorded: the job, the error, what follows."""

    job: Job
    error: BaseException
    outcome: Outcome


class ClaimedExecutionQuerySet(ExecutionQuerySet["ClaimedExecution"]):
    def release_all(self) -> int:
        """Give these jobs back to ready untouched (a graceful stop): no attempt is counted."""
        released = 0
        for claim_id in list(self.values_list("id", flat=True)):
            with queue_atomic():
                claim = self._locked(claim_id)
                if claim is not None:
                    claim.delete()
                    claim.job.enter(None, holding_permit=True)  # it keeps its permit
                    released += 1
        return released

    def unstarted(self, job_ids: Collection[str], claimed_after: int | None) -> Self:
        """Claims a worker kept waiting (``job_ids``) or took after the last one it handed
        to a thread (id above ``claimed_after``)."""
        condition = Q(job_id__in=list(job_ids))
        if claimed_after is not None:
            condition |= Q(id__gt=claimed_after)
        return self.filter(condition)

    def recover_lost(self, error_class: type[BaseException], message: str) -> list[Loss]:
        """Re-run jobs whose worker went away, each loss recorded as a failed attempt and
        decided like any failure (``retries.decide``: the task's rules, then the lost-attempt
        cap, so a job that kills its worker every time cannot crash-loop forever)."""
        losses = []
        for claim_id in list(self.values_list("id", flat=True)):
            with queue_atomic():
                claim = self._locked(claim_id)
                if claim is not None:
                    losses.append(claim.lose(error_class, message))
        return losses

    def finish_all(
        self, outcomes: Sequence[tuple[Job, Any]], worker_id: str, preserve: bool
    ) -> list[Job]:
        """Record successful attempts and end their jobs, giving back their unique keys and
        permits, all in one transaction.

        Returns the jobs finished; a job whose claim is gone (recovered by a pruner that
        thought its worker dead) is left alone: the recovery already decided its fate.
        """
        if not any(job.limited for job, _ in outcomes):
            return self._finish(outcomes, worker_id, preserve)  # PostgreSQL: one statement
        with queue_atomic():
            finished = self._finish(outcomes, worker_id, preserve)
            limited = [job for job in finished if job.limited]
            Semaphore.objects.release_for(limited, unique=True, permit=True)
        return finished

    def _finish(
        self, outcomes: Sequence[tuple[Job, Any]], worker_id: str, preserve: bool
    ) -> list[Job]:
        now = timezone.now()
        jobs = [job for job, _ in outcomes]
        for job, value in outcomes:
            job.record_attempt(worker_id, job.claimed.created_at)  # type: ignore[union-attr]
            job.finished_at = now
            job.return_value = value
        fields = [*ATTEMPT_COLUMNS, "finished_at", "return_value"]
        done = ops_for(self.db).finish(self, Job.objects, jobs, fields, preserve)
        return [job for job in jobs if str(job.pk) in done]

    def _locked(self, claim_id: int) -> ClaimedExecution | None:
        return (
            ClaimedExecution.objects.select_related("job")
            .select_for_update()
            .filter(id=claim_id)
            .first()
        )


ClaimedExecutionManager = models.Manager.from_queryset(ClaimedExecutionQuerySet)


class ClaimedExecution(Execution):
    holds_permit = True

    # No foreign key: a process row is deleted when it dies, its claims are recovered after.
    process_id = models.BigIntegerField(null=True, blank=True)

    objects = ClaimedExecutionManager()

    class Meta:
        db_table = "solidq_claimed_executions"
        indexes = [models.Index(fields=["process_id", "job"], name="solidq_claimed_process")]

    def __str__(self) -> str:
        return f"claimed {self.job_id} by process {self.process_id}"

    def _take(self) -> bool:
        """Delete this claim; False if it is gone already (recovered by a pruner meanwhile)."""
        return bool(raw_delete(ClaimedExecution.objects.filter(id=self.id)))

    def fail(self, job: Job, error: dict[str, Any], worker_id: str, outcome: Outcome) -> bool:
        """Record a failed attempt, then apply ``outcome`` (``retries.decide``): retried,
        discarded, or failed for good.

        False if the claim is gone (its worker was presumed dead and the job recovered)."""
        with queue_atomic():
            if not self._take():
                return False
            job.record_attempt(worker_id, self.created_at)
            job.record_error(error)
            _conclude(job, outcome)
        return True

    def lose(self, error_class: type[BaseException], message: str) -> Loss:
        """The worker went away mid-attempt: count the attempt, decide what follows as for
        any failure (the task resolved from its path, for its rules), and apply it."""
        job, worker, error = self.job, f"process-{self.process_id}", error_class(message)
        outcome = decide(job, task_at(job.task_path), error)
        self._take()
        job.record_attempt(worker, self.created_at)
        job.record_error(error_entry(error_class, message, worker_id=worker))
        _conclude(job, outcome)
        return Loss(job, error, outcome)


def _conclude(job: Job, outcome: Outcome) -> None:
    """The attempt ended: save it with the outcome's changes, give back what the job held,
    and place it.

    Locks are taken in one order everywhere — unique key, then concurrency permit, as an
    enqueue takes them — so that releases and enqueues never deadlock."""
    for name, value in outcome.changes.items():
        setattr(job, name, value)
    fields = [*ATTEMPT_COLUMNS, "errors", *outcome.changes]
    job.save(using=queue_database(), update_fields=fields)
    retried = outcome.action == "retry"
    # Not running any more, whatever comes next; unless retried, the job has ended.
    Semaphore.objects.release_for([job], unique=not retried, permit=True)
    if retried:
        job.enter(outcome.retry_at)
    elif outcome.action == "fail":
        FailedExecution.of(job).save(force_insert=True)
