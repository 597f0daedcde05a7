"""The LISTEN/NOTIFY listener (PostgreSQL): an enqueue wakes the worker at once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from django_solidq.conf import queue_database
from django_solidq.runtime.notifier import Listener
from tests.app import tasks as app
from tests.harness import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="LISTEN/NOTIFY is PostgreSQL's")
def test_an_enqueue_wakes_the_listener_and_it_stops_when_told():
    woken = threading.Event()
    listener = Listener(queue_database(), woken.set)
    listener.start()
    try:
        wait_for(woken.is_set, what="the wake-up once listening")  # missed enqueues
        woken.clear()
        app.add.enqueue(1, 1)
        wait_for(woken.is_set, what="the NOTIFY of the enqueue")
    finally:
        listener.stop()
    listener._thread.join(5)
    assert not listener._thread.is_alive()


@pytest.mark.skipif(connection.vendor == "postgresql", reason="other databases poll")
def test_other_databases_have_no_listener():
    assert not Listener.supported(queue_database())


def test_listen_notify_can_be_turned_off(settings):
    settings.SOLIDQ = {**settings.SOLIDQ, "LISTEN_NOTIFY": False}
    assert not Listener.supported(queue_database())
