"""What every execution table shares: the job it places, and leaving the table.

A job's state is the execution row that points at it. Two flags per table say what a job
holds while its row is there, and so what leaving the table gives back:

========== ============ ===========
table      holds permit holds unique
========== ============ ===========
ready      yes          yes
claimed    yes          yes
scheduled  no           yes
blocked    no           yes
failed     no           no
========== ============ ===========

(A permit only for a concurrency-limited job, a unique key only for a unique one.)
``docs/architecture.md`` lists every transition with what it does to both.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from django.db import models
from django.utils import timezone

from django_solidq.ops.rows import raw_delete

from .base import QueueQuerySet, queue_atomic
from .job import Job
from .semaphore import Semaphore

E = TypeVar("E", bound="Execution")


class ExecutionQuerySet(QueueQuerySet[E]):
    def lock_rows(self) -> list[tuple[Any, Any]]:
        """``(row id, job id)`` of these rows, locked; rows another transaction is moving at
        this moment (a dispatcher, a worker claiming) are skipped — they are on their way."""
        return list(self.select_for_update(skip_locked=True).values_list("id", "job_id"))

    def delete_rows(self, ids: list[Any]) -> int:
        """Delete rows by id without Django's collector (nothing cascades from them)."""
        if not ids:
            return 0
        return raw_delete(self.model._default_manager.filter(id__in=ids))

    def discard(self) -> int:
        """End these jobs without running them (kept, marked discarded), giving back the
        permit and unique key they held here. Returns how many were discarded."""
        with queue_atomic():
            rows = self.lock_rows()
            if not rows:
                return 0
            self.delete_rows([row_id for row_id, _ in rows])
            _end_discarded([job_id for _, job_id in rows], self.model)
        return len(rows)


def _end_discarded(job_ids: list[Any], table: type[Execution]) -> None:
    """These jobs, just taken out of ``table``, end without another run: marked discarded,
    they give back the permit and unique key they held there."""
    now = timezone.now()
    jobs = Job.objects.filter(id__in=job_ids)
    jobs.update(finished_at=now, discarded_at=now)
    if table.holds_permit or table.holds_unique:
        limited = jobs.exclude(concurrency_key=None, unique_key=None).only(
            "id", "task_path", "concurrency_key", "unique_key"
        )
        Semaphore.objects.release_for(
            list(limited), unique=table.holds_unique, permit=table.holds_permit
        )


class Execution(models.Model):
    """Abstract: one row per job in this state."""

    holds_permit: ClassVar[bool] = False
    holds_unique: ClassVar[bool] = True

    id = models.BigAutoField(primary_key=True)
    job = models.OneToOneField("django_solidq.Job", on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class QueuedExecution(Execution):
    """Abstract: a row that knows its job's queue and priority (ready, scheduled, blocked)."""

    queue_name = models.CharField(max_length=128)
    priority = models.SmallIntegerField(default=0)

    class Meta:
        abstract = True
