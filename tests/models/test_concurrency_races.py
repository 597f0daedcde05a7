"""Racing enqueues and releases on one key: permits never exceed the limit, nothing is
stranded in blocked. Real threads, each with its own database connection."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from django_solidq.models import BlockedExecution, ClaimedExecution, Job, ReadyExecution
from django_solidq.runtime.execution import Recorder, perform
from tests.app import tasks

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "tests.app.tasks.three_at_a_time/trio"
SECONDS = 3.0 if connection.vendor == "sqlite" else 10.0


def worker_loop(path: str, stop: threading.Event, seen: list[int], errors: list[BaseException]):
    try:
        while not stop.is_set():
            tasks.three_at_a_time.enqueue(path, "x", 0)
            for job in ReadyExecution.objects.claim(["*"], 2, None):
                seen.append(ClaimedExecution.objects.filter(job__concurrency_key=KEY).count())
                perform(job, Recorder("racer"))
    except BaseException as exc:  # reported to the test thread
        errors.append(exc)
    finally:
        connection.close()  # this thread's own connection


def test_racing_enqueue_and_release_loops_keep_the_limit_and_strand_nothing(tmp_path):
    stop = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []
    racers = [
        threading.Thread(target=worker_loop, args=(str(tmp_path / "log"), stop, seen, errors))
        for _ in range(2)
    ]
    for racer in racers:
        racer.start()
    stop.wait(SECONDS)  # the race runs this long
    stop.set()
    for racer in racers:
        racer.join(30)
    assert not errors, errors
    assert seen and max(seen) <= 3
    # Drain what is left: every blocked job must get its turn without maintenance.
    deadline = time.monotonic() + 60
    while Job.objects.filter(finished_at=None).exists() and time.monotonic() < deadline:
        for job in ReadyExecution.objects.claim(["*"], 3, None):
            perform(job, Recorder("drain"))
    assert not BlockedExecution.objects.exists()
    assert not Job.objects.filter(finished_at=None).exists()
    assert Job.objects.count() > 10
