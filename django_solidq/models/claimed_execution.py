"""ClaimedExecution: a job a worker has taken and is running."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone

from django_solidq.errors import error_entry

from .base import QueueQuerySet, queue_atomic

if TYPE_CHECKING:
    from .job import Job


class ClaimedExecutionQuerySet(QueueQuerySet["ClaimedExecution"]):
    def orphaned(self, live_process_ids: list[int]) -> ClaimedExecutionQuerySet:
        return self.exclude(process_id__in=live_process_ids)

    def release_all(self) -> int:
        """Give these jobs back to ready untouched (a graceful stop): no attempt is counted."""
        released = 0
        for claim_id in list(self.values_list("id", flat=True)):
            with queue_atomic():
                claim = self._locked(claim_id)
                if claim is not None:
                    claim.delete()
                    claim.job.enter(None)
                    released += 1
        return released

    def recover_lost(
        self, error_class: type[BaseException], message: str, max_lost: Callable[[Job], int]
    ) -> int:
        """Re-run jobs whose worker went away, each loss recorded as a failed attempt.

        A job already lost ``max_lost(job)`` times is failed instead, so a job that kills its
        worker every time cannot crash-loop forever.
        """
        recovered = 0
        for claim_id in list(self.values_list("id", flat=True)):
            with queue_atomic():
                claim = self._locked(claim_id)
                if claim is not None:
                    claim.lose(error_class, message, max_lost(claim.job))
                    recovered += 1
        return recovered

    def finish_all(
        self, outcomes: Sequence[tuple[Job, Any]], worker_id: str, preserve: bool
    ) -> list[Job]:
        """Record successful attempts and end their jobs, all in one transaction.

        Returns the jobs finished; a job whose claim is gone (recovered by a pruner that
        thought its worker dead) is left alone: the recovery already decided its fate.
        """
        from .job import Job

        by_claim = {job.claimed.id: (job, value) for job, value in outcomes if job.claimed}
        with queue_atomic():
            held = list(
                self.filter(id__in=by_claim).select_for_update().values_list("id", flat=True)
            )
            if not held:
                return []
            self.filter(id__in=held)._raw_delete(self.db)
            now = timezone.now()
            finished = []
            for claim_id in held:
                job, value = by_claim[claim_id]
                job.record_attempt(worker_id, job.claimed.created_at)  # type: ignore[union-attr]
                job.finished_at = now
                job.return_value = value
                finished.append(job)
            if preserve:
                Job.objects.bulk_update(
                    finished, [*Job.OUTCOME_FIELDS, "finished_at", "return_value"]
                )
            else:
                Job.objects.filter(id__in=[job.pk for job in finished])._raw_delete(self.db)
        return finished

    def _locked(self, claim_id: int) -> ClaimedExecution | None:
        return (
            ClaimedExecution.objects.select_related("job")
            .select_for_update()
            .filter(id=claim_id)
            .first()
        )


ClaimedExecutionManager = models.Manager.from_queryset(ClaimedExecutionQuerySet)


class ClaimedExecution(models.Model):
    id = models.BigAutoField(primary_key=True)
    job = models.OneToOneField("django_solidq.Job", on_delete=models.CASCADE)
    # No foreign key: a process row is deleted when it dies, its claims are recovered after.
    process_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ClaimedExecutionManager()

    class Meta:
        db_table = "solidq_claimed_executions"
        indexes = [models.Index(fields=["process_id", "job"], name="solidq_claimed_process")]

    def __str__(self) -> str:
        return f"claimed {self.job_id} by process {self.process_id}"

    def _take(self) -> bool:
        """Delete this claim; False if it is gone already (recovered by a pruner meanwhile)."""
        queryset = ClaimedExecution.objects.filter(id=self.id)
        return bool(queryset._raw_delete(queryset.db))

    def fail(
        self, job: Job, error: dict[str, Any], worker_id: str, retry_at: datetime | None = None
    ) -> bool:
        """Record a failed attempt: retried at ``retry_at``, else failed for good."""
        with queue_atomic():
            if not self._take():
                return False
            job.record_attempt(worker_id, self.created_at)
            job.record_error(error)
            job.save_outcome("errors", "exception_executions", "queue_name", "priority")
            if retry_at is None:
                job.fail_for_good()
            else:
                job.enter(retry_at)
        return True

    def lose(self, error_class: type[BaseException], message: str, max_lost: int) -> None:
        """The worker went away mid-attempt: count it, then re-run or (past the cap) fail."""
        job = self.job
        worker = f"process-{self.process_id}"
        self.delete()
        job.record_attempt(worker, self.created_at)
        job.record_error(error_entry(error_class, message, worker_id=worker))
        job.save_outcome("errors")
        if job.lost_attempts() >= max_lost:
            job.fail_for_good()
        else:
            job.enter(None)
