"""Lifecycle hooks (``SOLIDQ['HOOKS']``), the thread-error reporter, and ``reported``: the
turn of a loop that must survive its errors.

A hook that raises is reported and otherwise ignored: hooks never kill a process.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from django.db import close_old_connections
from django.utils.module_loading import import_string

from django_solidq import signals
from django_solidq.conf import get_config

logger = logging.getLogger("django_solidq")


@dataclass
class Turn:
    """What ``reported`` saw: the error that ended the block, if one did."""

    error: Exception | None = None


@contextmanager
def reported(where: str, reset: bool = False) -> Iterator[Turn]:
    """Run the block as one turn of a loop that must go on whatever happens in it: an error
    is reported (``thread_error``) and swallowed, and this thread's broken database
    connections are closed (Django opens fresh ones on next use) — after an error, or after
    every turn with ``reset=True``. The ``Turn`` it yields tells the caller what happened."""
    turn = Turn()
    try:
        yield turn
    except Exception as exc:
        turn.error = exc
        thread_error(exc, where)
        close_old_connections()
    else:
        if reset:
            close_old_connections()


class Named(Protocol):
    kind: str
    name: str


def run(event: str, actor: Named) -> None:
    """Send ``event``'s signal (``process_started``, ``process_stopping``) for ``actor``."""
    signal = signals.PROCESS_SIGNALS[event]
    try:
        signal.send(type(actor), actor=actor, kind=actor.kind, name=actor.name)
    except Exception as exc:
        thread_error(exc, f"{event} hook of {actor.kind}")


def thread_error(exc: BaseException, where: str) -> None:
    """Report an internal error: logged with its traceback, then ``ON_THREAD_ERROR`` if set."""
    logger.error("Error in %s: %s", where, exc, exc_info=exc)
    path = get_config().on_thread_error
    if path:
        try:
            import_string(path)(exc)
        except Exception:
            logger.exception("ON_THREAD_ERROR handler %s raised", path)
