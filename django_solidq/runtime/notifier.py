"""PostgreSQL LISTEN/NOTIFY: enqueue wakes idle workers at once instead of at the next poll.

NOTIFY is sent inside the enqueue transaction, so it is delivered on commit and never for a
rolled-back job. Other databases poll at ``polling_interval``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.db import connections

from django_solidq.conf import get_config
from django_solidq.ops import CHANNEL

logger = logging.getLogger("django_solidq.notifier")


class Listener:
    """A thread holding its own PostgreSQL connection in LISTEN, calling ``wake`` on NOTIFY."""

    def __init__(self, using: str, wake: Callable[[], None]) -> None:
        self.using = using
        self.wake = wake
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="solidq-listener", daemon=True)

    @classmethod
    def supported(cls, using: str) -> bool:
        return connections[using].vendor == "postgresql" and get_config().listen_notify

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen()
            except Exception:
                logger.exception("LISTEN connection failed; reconnecting in 1 s")
                self._stopping.wait(1.0)

    def _listen(self) -> None:
        import psycopg

        params = connections[self.using].get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        with psycopg.connect(autocommit=True, **params) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self.wake()  # anything enqueued while we were connecting
            while not self._stopping.is_set():
                for _ in conn.notifies(timeout=1.0, stop_after=1):
                    self.wake()
