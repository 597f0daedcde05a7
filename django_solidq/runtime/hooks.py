"""Lifecycle hooks (``SOLIDQ['HOOKS']``) and the thread-error reporter.

A hook that raises is reported and otherwise ignored: hooks never kill a process.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils.module_loading import import_string

from django_solidq.conf import get_config

logger = logging.getLogger("django_solidq")


def run(event: str, actor: Any) -> None:
    from django_solidq import signals

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
