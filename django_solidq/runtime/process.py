"""Registered: what every actor shares — a Process row, a heartbeat thread, a stop flag."""

from __future__ import annotations

import logging
import os
import threading
import uuid
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections

from django_solidq.conf import get_config
from django_solidq.models import Process
from django_solidq.runtime import hooks

logger = logging.getLogger("django_solidq.process")


def keep_connections() -> None:
    """Job processes keep their database connections between jobs, whatever ``CONN_MAX_AGE``
    says (Django's default, 0, would reconnect for every job: several times slower). Broken
    connections are still replaced, by ``close_old_connections`` around each job."""
    for alias in settings.DATABASES:
        connections[alias].settings_dict["CONN_MAX_AGE"] = None


class Registered:
    """An actor with a row in the process registry, kept alive by heartbeats.

    A process whose row vanished (pruned by a supervisor that thought it dead) stops itself;
    so does a child whose supervisor died (its parent pid changed).
    """

    kind = "process"

    def __init__(self, supervisor_id: int | None = None, name: str | None = None) -> None:
        self.name = name or f"{self.kind}-{uuid.uuid4().hex[:12]}"
        self.supervisor_id = supervisor_id
        self.process: Process | None = None
        self.stopping = threading.Event()
        self.wakeup = threading.Event()
        self._parent_pid: int | None = None
        self._heartbeat_thread = threading.Thread(
            target=self._heartbeat_loop, name=f"solidq-heartbeat-{self.kind}", daemon=True
        )

    def metadata(self) -> dict[str, Any]:
        return {}

    def register(self, parent_pid: int | None = None) -> None:
        """Join the registry; with ``parent_pid``, stop when that process (our supervisor) is
        gone. It is passed in, not read at start: the supervisor may die before we boot."""
        self._parent_pid = parent_pid
        self.process = Process.objects.register(
            self.kind, self.name, supervisor_id=self.supervisor_id, **self.metadata()
        )
        self._heartbeat_thread.start()
        hooks.run("on_start", self)

    def stop(self) -> None:
        self.stopping.set()
        self.wakeup.set()

    def deregister(self) -> None:
        hooks.run("on_stop", self)
        if self.process is not None:
            self.process.deregister()

    def _heartbeat_loop(self) -> None:
        interval = get_config().process_heartbeat_interval
        while not self.stopping.wait(interval):
            try:
                self._beat()
            except Exception as exc:
                hooks.thread_error(exc, f"{self.kind} heartbeat")
            finally:
                close_old_connections()

    def _beat(self) -> None:
        assert self.process is not None
        if not self.process.heartbeat():
            logger.warning("%s: process row is gone (pruned?); stopping", self.name)
            self.stop()
        elif self._parent_pid is not None and os.getppid() != self._parent_pid:
            logger.warning("%s: supervisor is gone; finishing and stopping", self.name)
            self.stop()
