"""Supervisor: starts the configured processes, replaces those that die, stops them on signals.

TERM/INT: graceful — children finish in-flight jobs within ``SHUTDOWN_TIMEOUT``; jobs still
running after that go back to ready once their process is dead (never run twice at once).
QUIT: immediate — children are killed and their jobs go back to ready.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any

from django.db import close_old_connections, connections

from django_solidq.conf import get_config, queue_database
from django_solidq.exceptions import ProcessExitError, ProcessMissingError
from django_solidq.models import ClaimedExecution, Process
from django_solidq.runtime import hooks
from django_solidq.runtime.child import EXIT_CLEAN, build_actor, child_main, config_dict
from django_solidq.runtime.policy import after_lost_attempt
from django_solidq.runtime.process import Registered, keep_connections

logger = logging.getLogger("django_solidq.supervisor")
RESTART_BACKOFF = 1.0  # a child that died within this many seconds of its start waits this long


@dataclass
class Slot:
    """One configured process: what to run, and the child currently running it."""

    kind: str
    config: Any
    child: BaseProcess | None = None
    name: str = ""
    started_at: float = 0.0
    restart_at: float = 0.0
    actors: list[Any] = field(default_factory=list)


class Supervisor(Registered):
    kind = "supervisor"

    def __init__(self, slots: list[Slot], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.slots = slots
        self.immediate = False
        self._context = multiprocessing.get_context("spawn")
        self._wake_r, self._wake_w = os.pipe()

    def metadata(self) -> dict[str, Any]:
        return {"processes": [f"{slot.kind}" for slot in self.slots]}

    def describe(self) -> str:
        parts = []
        for slot in self.slots:
            c = slot.config
            if slot.kind == "worker":
                parts.append(
                    f"worker ({c.threads} threads, queues {','.join(c.queues)}, "
                    f"polling {c.polling_interval}s)"
                )
            elif slot.kind == "scheduler":
                from django_solidq.runtime.scheduler import describe

                parts.append(describe(c))
            else:
                parts.append(f"dispatcher (batch {c.batch_size}, polling {c.polling_interval}s)")
        connection = connections[queue_database()]
        return (
            f"Supervisor {self.name} pid {os.getpid()} running {len(self.slots)} processes: "
            f"{'; '.join(parts)}; database {queue_database()!r} ({connection.vendor})"
        )

    # Signals -----------------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        os.set_blocking(self._wake_w, False)
        signal.set_wakeup_fd(self._wake_w)
        signal.signal(signal.SIGTERM, lambda *_: self.stop())
        signal.signal(signal.SIGINT, lambda *_: self.stop())
        signal.signal(signal.SIGQUIT, lambda *_: self.quit())

    def quit(self) -> None:
        self.immediate = True
        self.stop()

    # Boot and maintenance ----------------------------------------------------------------
    def boot(self) -> None:
        self.register()
        self.maintain()
        live = list(Process.objects.values_list("id", flat=True))
        orphaned = ClaimedExecution.objects.orphaned(live).recover_lost(
            ProcessMissingError, "claimed by a process that no longer exists", after_lost_attempt
        )
        if orphaned:
            logger.warning("Recovered %d job(s) claimed by processes that are gone", orphaned)

    def maintain(self) -> None:
        config = get_config()
        try:
            pruned = Process.objects.prune(
                config.process_alive_threshold, after_lost_attempt, excluding=self.process_id
            )
            if pruned:
                logger.warning("Pruned %d process(es) that stopped heartbeating", pruned)
        except Exception as exc:
            hooks.thread_error(exc, "supervisor maintenance")
        finally:
            close_old_connections()

    @property
    def process_id(self) -> int | None:
        return self.process.id if self.process else None

    # Process mode ------------------------------------------------------------------------
    def run_processes(self) -> None:
        self.install_signal_handlers()
        logger.info(self.describe())
        self.boot()
        interval = get_config().process_heartbeat_interval
        next_maintenance = time.monotonic() + interval
        while not self.stopping.is_set():
            self._start_missing_children()
            self._wait(min(interval, 0.5))
            self._reap(stopping=False)
            if time.monotonic() >= next_maintenance:
                self.maintain()
                next_maintenance = time.monotonic() + interval
        self._stop_children()
        self.deregister()
        logger.info("Supervisor %s stopped", self.name)

    def _start_missing_children(self) -> None:
        now = time.monotonic()
        for slot in self.slots:
            if slot.child is None and now >= slot.restart_at and not self.stopping.is_set():
                slot.name = f"{slot.kind}-{os.urandom(6).hex()}"
                slot.child = self._context.Process(
                    target=child_main,
                    args=(
                        slot.kind,
                        config_dict(slot.config),
                        self.process_id,
                        slot.name,
                        os.getpid(),
                    ),
                    name=slot.name,
                    daemon=False,
                )
                slot.child.start()
                slot.started_at = now
                logger.info("Started %s %s (pid %s)", slot.kind, slot.name, slot.child.pid)

    def _wait(self, timeout: float) -> None:
        sentinels: list[Any] = [s.child.sentinel for s in self.slots if s.child is not None]
        ready = multiprocessing.connection.wait([*sentinels, self._wake_r], timeout=timeout)
        if self._wake_r in ready:
            try:
                os.read(self._wake_r, 512)
            except BlockingIOError:
                pass

    def _reap(self, stopping: bool) -> None:
        for slot in self.slots:
            if slot.child is not None and not slot.child.is_alive():
                slot.child.join()
                self._child_exited(slot, slot.child.exitcode, stopping)
                if time.monotonic() - slot.started_at < RESTART_BACKOFF:
                    slot.restart_at = time.monotonic() + RESTART_BACKOFF
                slot.child = None

    def _child_exited(self, slot: Slot, exitcode: int | None, stopping: bool) -> None:
        row = Process.objects.filter(name=slot.name).first()
        if exitcode != EXIT_CLEAN or not stopping:
            log = logger.info if stopping else logger.warning
            log("%s %s exited with status %s", slot.kind, slot.name, exitcode)
        if row is None:
            return
        if stopping:
            row.deregister()  # our own stop: its unfinished jobs go back to ready untouched
        else:
            row.deregister(
                lost_with=(ProcessExitError, f"{slot.name} exited with status {exitcode}"),
                policy=after_lost_attempt,
            )

    def _stop_children(self) -> None:
        timeout = 0.0 if self.immediate else get_config().shutdown_timeout + 0.5
        sig = signal.SIGKILL if self.immediate else signal.SIGTERM
        for slot in self.slots:
            if slot.child is not None and slot.child.pid:
                _signal(slot.child.pid, sig)
        deadline = time.monotonic() + timeout
        for slot in self.slots:
            if slot.child is not None:
                slot.child.join(max(0.0, deadline - time.monotonic()))
                if slot.child.is_alive() and slot.child.pid:
                    logger.warning("%s %s did not stop in time; killing it", slot.kind, slot.name)
                    _signal(slot.child.pid, signal.SIGKILL)
                    slot.child.join()
        self._reap(stopping=True)

    # Thread mode -------------------------------------------------------------------------
    def run_threads(self) -> None:
        """Everything in this one process (development, small sites)."""
        import threading

        self.install_signal_handlers()
        keep_connections()
        logger.info(self.describe().replace("processes", "threads", 1))
        self.boot()
        actors = [
            build_actor(s.kind, config_dict(s.config), self.process_id, None) for s in self.slots
        ]
        threads = []
        for actor in actors:
            if hasattr(actor, "watchdog"):
                actor.watchdog.hard = False  # one process for all: never exit on a stuck job
            actor.start()
            thread = threading.Thread(target=actor.run, name=f"solidq-{actor.kind}", daemon=True)
            thread.start()
            threads.append(thread)
        interval = get_config().process_heartbeat_interval
        while not self.stopping.wait(interval):
            self.maintain()
        for actor in actors:
            actor.stop()
        drained = all([actor.drain() for actor in actors]) if not self.immediate else False
        for actor in actors:
            actor.deregister()  # releases whatever is still claimed back to ready
        self.deregister()
        if not drained:
            logging.shutdown()
            os._exit(0)  # job threads still running: end them with the process


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
