"""``ImmediateBackend``: a SolidQueueBackend that performs each job as it is enqueued."""

from __future__ import annotations

from django.tasks import Task, TaskResult

from django_solidq.backend import SolidQueueBackend
from django_solidq.models import Job

from .performing import claim_next, perform_claimed


class ImmediateBackend(SolidQueueBackend):
    """For tests: jobs are stored as usual, then performed at once in the enqueuing thread,
    through the worker's ``perform`` (every ``@task`` option of django_solidq applies). Jobs
    with a future ``run_after`` and scheduled retries wait; run them with
    ``perform_enqueued_jobs(at=...)``. Django's ImmediateBackend and DummyBackend do not take
    django_solidq's task options (``queue_as``, ``retry_on``…); use this instead of the first
    and ``SolidQueueBackend`` itself instead of the second."""

    def _enqueued(
        self, job: Job, task: Task, stored: Job | None = None, log: bool = True
    ) -> TaskResult:
        # The one place enqueue, enqueue_all and enqueue_on_commit all pass through.
        result = super()._enqueued(job, task, stored, log)
        if (stored is None or stored.pk == job.pk) and job.discarded_at is None and job.is_due():
            claimed = claim_next(["*"], lambda row: row.pk == job.pk)
            if claimed is not None:
                return perform_claimed(claimed) or self.get_result(str(job.pk))
        return result
