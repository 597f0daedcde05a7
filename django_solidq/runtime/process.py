"""Registered: what every actor shares — a Process row, a heartbeat thread, a stop flag, and
the self-pipe its loop sleeps on (woken by jobs, notifications, stops and signals)."""

from __future__ import annotations

import logging
import os
import threading
import uuid
from typing import Any

from django.conf import settings
from django.db import connections

from django_solidq import hooks
from django_solidq.conf import get_config
from django_solidq.models import Process
from django_solidq.runtime.stopping import EXIT_ABANDONED, StopSignals, Waker

logger = logging.getLogger("django_solidq.process")


def keep_connections() -> None:
    """Job processes keep their database connections between jobs, whatever ``CONN_MAX_AGE``
    says (Django's default, 0, would reconnect for every job: several times slower). Broken
    connections are still replaced, by ``close_old_connections`` around each job."""
    for alias in settings.DATABASES:
        connections[alias].settings_dict["CONN_MAX_AGE"] = None


class Registered:
    """An actor (``runtime.actor.Actor``) with a row in the process registry, kept alive by
    heartbeats.

    A process whose row vanished (pruned by a supervisor that thought it dead) stops itself;
    so does a child whose supervisor died (its parent pid changed).
    """

    kind = "process"

    def __init__(self, supervisor_id: int | None = None, name: str | None = None) -> None:
        self.name = name or f"{self.kind}-{uuid.uuid4().hex[:12]}"
        self.supervisor_id = supervisor_id
        self.process: Process | None = None
        self.stopping = threading.Event()
        self.waker = Waker()
        self.signals: StopSignals | None = None
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

    def start(self, parent_pid: int | None = None) -> None:
        self.register(parent_pid)

    def run(self) -> None:
        raise NotImplementedError

    def drain(self) -> bool:
        """Nothing in flight once the loop has ended, unless a subclass says otherwise."""
        return True

    def install_signal_handlers(self) -> None:
        """In the main thread: TERM and INT stop this process gracefully, QUIT at once."""
        self.signals = StopSignals(self.waker).install()

    def stop(self) -> None:
        """Stop after the current loop turn. Any thread may call it, but never a signal
        handler: setting the Event takes a lock the interrupted main thread may hold."""
        self.stopping.set()
        self.waker.wake()

    def wake(self) -> None:
        """End the loop's current sleep (from any thread)."""
        self.waker.wake()

    def sleep(self, timeout: float | None) -> None:
        """Sleep up to ``timeout`` seconds (None: until woken); a wake or a signal ends it."""
        self.waker.wait(timeout)

    def keep_running(self) -> bool:
        """Between loop turns: act on the stop signals received, then say whether to go on."""
        self.act_on_signals()
        return not self.stopping.is_set()

    def act_on_signals(self) -> None:
        signals = self.signals
        if signals is None:
            return
        if signals.immediate:
            self.quit()
        elif signals.graceful and not self.stopping.is_set():
            logger.info("%s: %s received; stopping", self.name, signals.received)
            self.stop()

    def quit(self) -> None:
        """QUIT: exit at once. The supervisor gives this process's jobs back to ready once it
        is surely dead, so they never run twice at the same time."""
        logger.info("%s: SIGQUIT received; exiting at once", self.name)
        os._exit(EXIT_ABANDONED)

    def deregister(self) -> None:
        hooks.run("on_stop", self)
        if self.process is not None:
            self.process.deregister()

    def _heartbeat_loop(self) -> None:
        interval = get_config().process_heartbeat_interval
        while not self.stopping.wait(interval):
            with hooks.reported(f"{self.kind} heartbeat", reset=True):
                self._beat()

    def _beat(self) -> None:
        assert self.process is not None
        if not self.process.heartbeat():
            logger.warning("%s: process row is gone (pruned?); stopping", self.name)
            self.stop()
        elif self._parent_pid is not None and os.getppid() != self._parent_pid:
            logger.warning("%s: supervisor is gone; finishing and stopping", self.name)
            self.stop()
