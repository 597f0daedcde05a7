"""FailedExecution: jobs that failed for good, until retried or discarded."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Count

from .base import per_minute, queue_atomic, tables
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

    def recent_exception_classes(self, limit: int, sample: int = 200) -> list[str]:
        """The exception classes of the latest ``sample`` failures, sorted, at most ``limit``."""
        recent = self.order_by("-created_at").values_list("exception_class", flat=True)[:sample]
        return sorted(set(recent) - {""})[:limit]

    def per_minute(self, since: datetime) -> dict[datetime, int]:
        """Jobs that failed for good since ``since`` (and are still failed), per minute."""
        return per_minute(self.filter(created_at__gte=since), "created_at")

    def top_tasks(self, since: datetime, limit: int = 10) -> list[tuple[str, int]]:
        """The tasks with the most jobs failed since ``since``, most first."""
        rows = (
            self.filter(created_at__gte=since)
            .order_by()
            .values("task_path")
            .annotate(n=Count("id"))
            .order_by("-n", "task_path")
            .values_list("task_path", "n")[:limit]
        )
        return list(rows)


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
