"""Connection faults injected into a ``runjobs`` subprocess, for tests/runtime/test_faults*.py.

A test sets ``SOLIDQ_TEST_FAULTS`` to a JSON object, e.g. ``{"claim": 4, "every": 3}``, before
it starts ``runjobs``; the test app's ``ready()`` calls ``install()`` in every process, which
wraps one queue transition so that its connection really dies at commit:

* ``"claim": n`` — n claims (every ``every``-th one that took jobs) commit on the server, then
  the connection is killed server-side before the worker hears back: the worker gets a real
  ``OperationalError`` from a dead connection while its claims are committed.
* ``"finish_after": n`` — n batches of successes: committed, then the connection killed.
* ``"finish_rolled_back": n`` — n batches: written, then the connection killed before the
  commit (the server rolls the batch back).
* ``"fail_after": n`` / ``"fail_rolled_back": n`` — the same for failed attempts.

Nothing is mocked: the database is real, the commits are real, the connections really die.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from django.db import OperationalError, connections, transaction

from django_solidq.conf import queue_database

ENV = "SOLIDQ_TEST_FAULTS"
logger = logging.getLogger("django_solidq.tests.faults")


def kill_own_connection(using: str) -> None:
    """End this thread's connection on the server, as an admin's kill or a crash would."""
    connection = connections[using]
    statement = {
        "postgresql": "SELECT pg_terminate_backend(pg_backend_pid())",
        "mysql": "KILL CONNECTION CONNECTION_ID()",
    }.get(connection.vendor)
    if statement is None:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    except Exception:
        pass  # the server ended the connection under this very statement


class Budget:
    """How many more times a fault fires, every ``every``-th eligible call."""

    def __init__(self, name: str, times: int, every: int) -> None:
        self.name = name
        self.times = times
        self.every = max(1, every)
        self.calls = 0
        self.lock = threading.Lock()

    def fire(self) -> bool:
        with self.lock:
            self.calls += 1
            if self.times > 0 and self.calls % self.every == 0:
                self.times -= 1
                logger.warning("Fault injected: %s", self.name)
                return True
            return False


def lost_after(original: Callable[..., Any], budget: Budget, worked: Callable[[Any], bool]):
    """``original`` runs and commits; then the connection dies and the caller gets the error."""

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        outcome = original(self, *args, **kwargs)
        if worked(outcome) and budget.fire():
            kill_own_connection(queue_database())
            raise OperationalError(2013, "Lost connection to server during query (injected)")
        return outcome

    return wrapper


def rolled_back(original: Callable[..., Any], budget: Budget):
    """``original`` writes, then the connection dies before the commit: the server rolls the
    writes back and the caller gets the error."""

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not budget.fire():
            return original(self, *args, **kwargs)
        with transaction.atomic(using=queue_database()):
            original(self, *args, **kwargs)
            kill_own_connection(queue_database())
            raise OperationalError(2013, "Lost connection to server during query (injected)")

    return wrapper


def install() -> None:
    spec = json.loads(os.environ.get(ENV) or "{}")
    if not spec:
        return
    from django_solidq.models.claimed_execution import ClaimedExecution, ClaimedExecutionQuerySet
    from django_solidq.models.ready_execution import ReadyExecutionQuerySet

    every = int(spec.get("every", 1))
    if spec.get("claim"):
        ReadyExecutionQuerySet.claim = lost_after(  # type: ignore[method-assign]
            ReadyExecutionQuerySet.claim, Budget("claim", spec["claim"], every), bool
        )
    if spec.get("finish_after"):
        ClaimedExecutionQuerySet.finish_all = lost_after(  # type: ignore[method-assign]
            ClaimedExecutionQuerySet.finish_all,
            Budget("finish_after", spec["finish_after"], every),
            bool,
        )
    if spec.get("finish_rolled_back"):
        ClaimedExecutionQuerySet.finish_all = rolled_back(  # type: ignore[method-assign]
            ClaimedExecutionQuerySet.finish_all,
            Budget("finish_rolled_back", spec["finish_rolled_back"], every),
        )
    if spec.get("fail_after"):
        ClaimedExecution.fail = lost_after(  # type: ignore[method-assign]
            ClaimedExecution.fail, Budget("fail_after", spec["fail_after"], every), bool
        )
    if spec.get("fail_rolled_back"):
        ClaimedExecution.fail = rolled_back(  # type: ignore[method-assign]
            ClaimedExecution.fail, Budget("fail_rolled_back", spec["fail_rolled_back"], every)
        )
