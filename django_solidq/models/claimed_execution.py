"""ClaimedExecution: a job a worker has taken and is running."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone

from django_solidq.errors import error_entry
from django_solidq.ops import ops_for
from django_solidq.ops.rows import raw_delete

from .base import queue_atomic
from .execution import Execution, ExecutionQuerySet
from .semaphore import Semaphore

if TYPE_CHECKING:
    from .job import Job

# What a failed attempt leads to: (run again at, or None; discard instead of failing).
Policy = Callable[["Job", BaseException], tuple[datetime | None, bool]]


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

    def recover_lost(self, error_class: type[BaseException], message: str, policy: Policy) -> int:
        """Re-run jobs whose worker went away, each loss recorded as a failed attempt.

        ``policy(job, error)`` returns ``(retry_at, discard)``: when to run again (None: not
        again), or to discard. It applies retry rules and the lost-attempt cap, so a job that
        kills its worker every time cannot crash-loop forever.
        """
        recovered = 0
        for claim_id in list(self.values_list("id", flat=True)):
            with queue_atomic():
                claim = self._locked(claim_id)
                if claim is not None:
                    claim.lose(error_class, message, policy)
                    recovered += 1
        return recovered

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
        from .job import Job

        now = timezone.now()
        jobs = [job for job, _ in outcomes]
        for job, value in outcomes:
            job.record_attempt(worker_id, job.claimed.created_at)  # type: ignore[union-attr]
            job.finished_at = now
            job.return_value = value
        fields = [*Job.OUTCOME_FIELDS, "finished_at", "return_value"]
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

    def fail(
        self,
        job: Job,
        error: dict[str, Any],
        worker_id: str,
        retry_at: datetime | None = None,
        discard: bool = False,
    ) -> bool:
        """Record a failed attempt. Then: retried at ``retry_at``, discarded, or failed for good.

        False if the claim is gone (its worker was presumed dead and the job recovered)."""
        with queue_atomic():
            if not self._take():
                return False
            job.record_attempt(worker_id, self.created_at)
            job.record_error(error)
            _conclude(job, retry_at, discard)
        return True

    def lose(self, error_class: type[BaseException], message: str, policy: Policy) -> None:
        """The worker went away mid-attempt: count the attempt, then let ``policy`` say whether
        the job runs again, is discarded or fails (the poison-pill cap lives there)."""
        job = self.job
        worker = f"process-{self.process_id}"
        self._take()
        job.record_attempt(worker, self.created_at)
        job.record_error(error_entry(error_class, message, worker_id=worker))
        retry_at, discard = policy(job, error_class(message))
        _conclude(job, retry_at, discard)


def _conclude(job: Job, retry_at: datetime | None, discard: bool) -> None:
    """The attempt ended: save it, give back what the job held, and place it.

    Locks are taken in one order everywhere — unique key, then concurrency permit, as an
    enqueue takes them — so that releases and enqueues never deadlock."""
    fields = ["errors", "exception_executions", "queue_name", "priority"]
    if discard:
        job.finished_at = job.discarded_at = timezone.now()
        fields += ["finished_at", "discarded_at"]
    job.save_outcome(*fields)
    # Not running any more, whatever comes next; unless retried, the job has ended.
    Semaphore.objects.release_for([job], unique=retry_at is None, permit=True)
    if retry_at is not None:
        job.enter(retry_at)
    elif not discard:
        job.fail_for_good()
