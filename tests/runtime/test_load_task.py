"""``load_task``: the task a job runs, copied with ``using`` once per thread and options."""

from __future__ import annotations

import threading

import pytest
from django.test import override_settings

from django_solidq.models import Job
from django_solidq.results import load_task
from tests.app import tasks as app

pytestmark = pytest.mark.django_db(transaction=True)


def loaded_twice_in_threads(job: Job, threads: int) -> list[tuple[object, object]]:
    """Each thread loads the job's task twice, after every thread loaded it once."""
    barrier = threading.Barrier(threads)
    pairs: list[tuple[object, object]] = []

    def load() -> None:
        first = load_task(job)
        barrier.wait(timeout=10)  # all threads load once before any loads again
        pairs.append((first, load_task(job)))

    started = [threading.Thread(target=load) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=10)
    assert len(pairs) == threads
    return pairs


def test_each_worker_thread_reuses_its_copy_while_other_threads_load_theirs():
    result = app.add.using(queue_name="load", priority=3).enqueue(1, 2)
    job = Job.objects.get(pk=result.id)
    for first, again in loaded_twice_in_threads(job, threads=4):
        assert again is first  # a thread's backend object differs from the others'
        assert (first.queue_name, first.priority) == ("load", 3)
        assert first.func is app.add.func


def test_a_new_backend_after_a_settings_change_gets_a_new_copy():
    job = Job.objects.get(pk=app.add.enqueue(1, 2).id)
    before = load_task(job)
    assert load_task(job) is before
    with override_settings(
        TASKS={"default": {"BACKEND": "django_solidq.backend.SolidQueueBackend"}}
    ):
        assert load_task(job) is not before
