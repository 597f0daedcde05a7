"""Replace database connections that died while idle, before a job or a poll uses them.

Workers keep their connections (see ``keep_connections``). One that died idle — a database
restart, ``pg_terminate_backend``, MariaDB's ``KILL``, a proxy's idle timeout — would fail the
next statement, and with it the job that happened to run first on that thread. Django's
``CONN_HEALTH_CHECKS`` would ping before every job: a round trip each. Instead we look at the
socket: an idle connection whose socket is readable has the server's goodbye (or EOF) waiting,
so it is pinged and, if the ping fails, closed; Django then opens a fresh one on first use.
A look costs 10-20 us per job here (a ping: 100-450 us). A connection not looked at for
``IDLE_PING`` seconds is pinged anyway, for a server that vanished without a goodbye.
"""

from __future__ import annotations

import select
import threading
import time
from typing import Any

from django.db import connections

IDLE_PING = 30.0

_seen = threading.local()  # per thread: alias -> when close_dead_connections last saw it


def close_dead_connections() -> None:
    """Close this thread's open connections that no longer work (never one in a transaction)."""
    now = time.monotonic()
    for connection in connections.all(initialized_only=True):
        if connection.connection is None or connection.in_atomic_block:
            continue
        idle = now - getattr(_seen, connection.alias, now)
        setattr(_seen, connection.alias, now)
        if (idle > IDLE_PING or _has_news(connection)) and not connection.is_usable():
            connection.close()


def _has_news(connection: Any) -> bool:
    """Something (an error, the end of the stream) is waiting on an idle connection."""
    try:
        fd = connection.connection.fileno()
    except Exception:
        return False  # no socket to look at (SQLite): nothing to drop
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))
