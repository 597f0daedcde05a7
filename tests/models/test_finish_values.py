"""What a worker's batched finish writes: every return value as the task returned it, and a
None return stored as SQL NULL (as Django stores it), on every database."""

from __future__ import annotations

import pytest
from django.tasks import TaskResultStatus, default_task_backend

from django_solidq.models import Job
from tests.app import tasks
from tests.harness import wait_for
from tests.runtime.test_async_jobs import all_done, settings, worker_with  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)

TRICKY = [
    'a "quoted" word',
    'back\\slash \\" both',
    "{braces},commas",
    "NULL",
    "",
    "Zoë ✓",
    None,
    {"nested": [1, 2.5, None, {"x": "y"}]},
    [],
    {},
]


def test_return_values_round_trip_through_a_batched_finish(worker_with):  # noqa: F811
    results = [tasks.echo.enqueue(value, key=value) for value in TRICKY]
    nothing = [tasks.noop.enqueue() for _ in range(3)]
    worker_with(settings(threads=4))
    ids = [r.id for r in [*results, *nothing]]
    wait_for(lambda: all_done(ids), timeout=60, what="the jobs to end")
    for value, result in zip(TRICKY, results, strict=True):
        got = default_task_backend.get_result(result.id)
        assert got.status == TaskResultStatus.SUCCESSFUL
        assert got.return_value == {"args": [value], "kwargs": {"key": value}}
    returned_none = Job.objects.filter(id__in=[r.id for r in nothing])
    assert returned_none.filter(return_value__isnull=True).count() == 3
    for job in Job.objects.filter(id__in=ids):
        assert job.started_at is not None and job.last_attempted_at is not None
        assert job.finished_at is not None and len(job.worker_ids) == 1
