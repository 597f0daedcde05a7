"""FailedExecution: jobs that failed for good, until retried or discarded."""

from __future__ import annotations

from django.db import models

from .base import queue_atomic, tables
from .execution import Execution, ExecutionQuerySet
from .job import Job


class FailedExecutionQuerySet(ExecutionQuerySet["FailedExecution"]):
    def retry(self) -> int:
        """Run these jobs again from scratch: counters reset, their errors kept as history.

        A unique job takes its key back first; while another live job holds the key, the
        failed one is left as it is (retry it once that job has ended). Returns how many
        were retried."""
        return sum(self._retry_one(row_id) for row_id in self.values_list("id", flat=True))

    def _retry_one(self, row_id: int) -> bool:
        with queue_atomic():
            failed = (
                FailedExecution.objects.select_related("job")
                .select_for_update(skip_locked=True)
                .filter(id=row_id)
                .first()
            )
            if failed is None:
                return False
            job = failed.job
            if job.unique_key and tables.semaphore.objects.take_unique(job) is not None:
                return False
            self.delete_rows([row_id])
            job.exception_executions = {}
            job.save(using=self.db, update_fields=["exception_executions"])
            job.enter(None)
        return True


FailedExecutionManager = models.Manager.from_queryset(FailedExecutionQuerySet)


class FailedExecution(Execution):
    """A job that failed for good. Like Solid Queue's row it keeps the error that ended the
    job (its class), and like the other execution tables the job's queue (and task): the
    admin filters and counts failures by them without joining every failure to its job."""

    holds_unique = False  # given back when the job failed; a retry takes it again
    # db_default: a worker still on the code before 0002 inserts without them (rolling deploys).
    task_path = models.CharField(max_length=255, default="", db_default="")
    queue_name = models.CharField(max_length=128, default="", db_default="")
    # The last attempt's exception class path ("" if the job had no error entry).
    exception_class = models.CharField(max_length=255, default="", db_default="")

    objects = FailedExecutionManager()

    class Meta:
        db_table = "solidq_failed_executions"
        indexes = [
            models.Index(fields=["created_at"], name="solidq_failed_created"),
            models.Index(fields=["queue_name", "created_at"], name="solidq_failed_queue"),
            models.Index(fields=["exception_class", "created_at"], name="solidq_failed_exception"),
        ]

    def __str__(self) -> str:
        return f"failed {self.job_id}"

    @classmethod
    def of(cls, job: Job) -> FailedExecution:
        """The row for ``job``, which failed for good, not yet stored."""
        last = job.errors[-1] if job.errors else {}
        return cls(
            job=job,
            task_path=job.task_path,
            queue_name=job.queue_name,
            exception_class=str(last.get("exception_class_path", ""))[:255],
        )
