"""In-process actors: each runs its loop in a thread of the test process, against the test
database, and is stopped, drained and deregistered when the test ends."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from django_solidq.conf import WORKER_DEFAULTS, WorkerConfig
from django_solidq.runtime.actor import Actor
from django_solidq.runtime.worker import Worker
from tests.runtime import tasks


@contextmanager
def running(actor: Actor) -> Iterator[Actor]:
    """``actor`` started, its loop in a thread; stopped, drained and deregistered after."""
    actor.start()
    thread = threading.Thread(target=actor.run, name=f"test-{actor.kind}", daemon=True)
    thread.start()
    try:
        yield actor
    finally:
        actor.stop()
        thread.join(10)
        assert not thread.is_alive(), f"{actor.kind} did not stop"
        actor.drain()
        actor.deregister()


def make_worker(
    threads: int = 2,
    queues: tuple[str, ...] = ("*",),
    config: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Worker:
    """A worker for this process: a stuck job is only logged (never ``os._exit``).
    ``config``: more keys of its ``WORKERS`` entry."""
    only = {
        "queues": queues,
        "threads": threads,
        "processes": 1,
        "polling_interval": 0.05,
        **(config or {}),
    }
    config = WorkerConfig(**{**WORKER_DEFAULTS, **only})
    worker = Worker(config, **kwargs)
    worker.watchdog.hard = False
    return worker


@pytest.fixture(autouse=True)
def _gates() -> Iterator[None]:
    yield
    for gate in tasks.OPEN.values():  # never leave a job thread waiting
        gate.set()
    tasks.reset()


@pytest.fixture
def worker_running() -> Iterator[Callable[..., Worker]]:
    """Start in-process workers; each is stopped when the test ends."""
    stack: list[Any] = []

    def start(**kwargs: Any) -> Worker:
        context = running(make_worker(**kwargs))
        worker = context.__enter__()
        stack.append(context)
        assert isinstance(worker, Worker)
        return worker

    yield start
    for gate in tasks.OPEN.values():
        gate.set()
    for context in reversed(stack):
        context.__exit__(None, None, None)
