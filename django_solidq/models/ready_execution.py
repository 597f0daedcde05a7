"""ReadyExecution: jobs that may run now. The only table workers poll."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import models
from django.db.models import Q

from django_solidq.ops import ops_for

from .claimed_execution import ClaimedExecution
from .execution import ExecutionQuerySet, QueuedExecution
from .job import Job
from .pause import Pause


def queue_filter(selector: str) -> Q:
    """``*`` is every queue, ``mail*`` every queue starting with ``mail``, else one queue."""
    if selector == "*":
        return Q()
    if selector.endswith("*"):
        return Q(queue_name__startswith=selector[:-1])
    return Q(queue_name=selector)


class ReadyExecutionQuerySet(ExecutionQuerySet["ReadyExecution"]):
    def add(self, rows: Iterable[tuple[Any, str, int]]) -> int:
        """Make jobs ready: ``(job id, queue name, priority)`` each, whose previous execution
        rows are gone and whose permits (if limited) are settled. Workers are told. Returns
        how many; call inside a queue transaction."""
        added = self.bulk_create(
            [
                ReadyExecution(job_id=job_id, queue_name=queue_name, priority=priority)
                for job_id, queue_name, priority in rows
            ],
            batch_size=1000,
        )
        if added:
            ops_for(self.db).notify_ready(self.db)
        return len(added)

    def move_from(self, executions: ExecutionQuerySet[Any]) -> list[Any]:
        """Make the jobs of these scheduled or blocked rows ready now as they are (no permit
        taken): rows another transaction holds are skipped. Returns the job ids moved; call
        inside a queue transaction."""
        rows = list(
            executions.select_for_update(skip_locked=True).values_list(
                "id", "job_id", "queue_name", "priority"
            )
        )
        executions.delete_rows([row[0] for row in rows])
        self.add(row[1:] for row in rows)
        return [row[1] for row in rows]

    def in_order(self) -> ReadyExecutionQuerySet:
        """Priority first (larger is more urgent, as in Django), then first in, first out."""
        return self.order_by("-priority", "id")

    def claim(self, queues: Sequence[str], limit: int, process_id: int | None) -> list[Job]:
        """Take up to ``limit`` jobs, queue by queue in the given order, skipping paused queues.

        Locked rows are skipped (``FOR UPDATE SKIP LOCKED``), so any number of workers on any
        number of hosts claim disjoint jobs. Returns the claimed jobs, claim attached.
        """
        if limit <= 0:
            return []
        ops = ops_for(self.db)
        return ops.claim(self, ClaimedExecution.objects, Job.objects, queues, limit, process_id)

    def paused_queues(self) -> models.QuerySet[Pause, Any]:
        return Pause.objects.values("queue_name")

    def lock_candidates(
        self, selector: str, limit: int, already: Iterable[tuple[int, Any]]
    ) -> list[tuple[int, Any]]:
        """``(ready id, job id)`` of up to ``limit`` ready rows of a queue selector, locked,
        in claim order, leaving out paused queues, rows others hold and ``already``."""
        taken = [ready_id for ready_id, _ in already]
        rows = (
            self.filter(queue_filter(selector))
            .exclude(queue_name__in=self.paused_queues())
            .exclude(id__in=taken)
            .in_order()
            .select_for_update(skip_locked=True)
            .values_list("id", "job_id")[:limit]
        )
        return list(rows)


ReadyExecutionManager = models.Manager.from_queryset(ReadyExecutionQuerySet)


class ReadyExecution(QueuedExecution):
    holds_permit = True

    objects = ReadyExecutionManager()

    class Meta:
        db_table = "solidq_ready_executions"
        indexes = [
            models.Index(fields=["queue_name", "-priority", "id"], name="solidq_ready_poll_queue"),
            models.Index(fields=["-priority", "id"], name="solidq_ready_poll_all"),
            # The admin's queue latency: the oldest ready job per queue.
            models.Index(fields=["queue_name", "created_at"], name="solidq_ready_queue_age"),
        ]

    def __str__(self) -> str:
        return f"ready {self.job_id}"
