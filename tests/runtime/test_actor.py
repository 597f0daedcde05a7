"""The Actor protocol, build_actor, and ``reported`` (the turn of a loop that survives)."""

from __future__ import annotations

import logging

import pytest
from django.db import DatabaseError, connection

from django_solidq import hooks
from django_solidq.conf import WORKER_DEFAULTS
from django_solidq.runtime.actor import Actor, build_actor
from django_solidq.runtime.dispatcher import Dispatcher
from django_solidq.runtime.scheduler import Scheduler
from django_solidq.runtime.supervisor import Supervisor
from django_solidq.runtime.worker import Worker

WORKER = {**WORKER_DEFAULTS, "queues": ("*",), "threads": 1, "polling_interval": 0.1}
DISPATCHER = {"polling_interval": 0.1, "batch_size": 10, "concurrency_maintenance_interval": 60}
REPORTED: list[BaseException] = []


def remember(exc: BaseException) -> None:
    REPORTED.append(exc)


def test_build_actor_builds_each_kind_and_every_actor_is_an_actor():
    worker = build_actor("worker", WORKER, None, "w")
    threaded = build_actor("worker", WORKER, None, None, threaded=True)
    dispatcher = build_actor("dispatcher", DISPATCHER, 7, None)
    scheduler = build_actor("scheduler", {}, None, None)
    assert isinstance(worker, Worker) and worker.name == "w"
    assert worker.watchdog.hard and not threaded.watchdog.hard  # thread mode never exits
    assert isinstance(dispatcher, Dispatcher) and dispatcher.supervisor_id == 7
    assert isinstance(scheduler, Scheduler)
    for actor in (worker, dispatcher, scheduler, Supervisor([])):
        assert isinstance(actor, Actor), actor
    assert [a.kind for a in (worker, dispatcher, scheduler)] == [
        "worker",
        "dispatcher",
        "scheduler",
    ]
    with pytest.raises(ValueError, match="Unknown process kind 'poller'"):
        build_actor("poller", {}, None, None)


def test_reported_reports_an_error_swallows_it_and_says_so(settings, caplog):
    settings.SOLIDQ = {**settings.SOLIDQ, "ON_THREAD_ERROR": f"{__name__}.remember"}
    REPORTED.clear()
    caplog.set_level(logging.ERROR, logger="django_solidq")
    with hooks.reported("a test turn") as turn:
        raise RuntimeError("broken")
    assert isinstance(turn.error, RuntimeError)
    assert [str(e) for e in REPORTED] == ["broken"]
    assert "Error in a test turn: broken" in caplog.text
    with hooks.reported("a quiet turn") as quiet:
        pass
    assert quiet.error is None
    assert len(REPORTED) == 1


@pytest.mark.django_db(transaction=True)
def test_reported_resets_a_connection_that_saw_a_database_error():
    with hooks.reported("a failing query") as turn:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM solidq_no_such_table")
    assert isinstance(turn.error, DatabaseError)
    assert not connection.errors_occurred  # looked at, and kept or closed: usable again
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
