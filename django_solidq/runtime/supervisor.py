"""Supervisor: starts the configured processes, replaces those that die, stops them on signals.

TERM/INT: graceful — children finish in-flight jobs within ``SHUTDOWN_TIMEOUT``; jobs still
running after that go back to ready once their process is dead (never run twice at once).
QUIT: immediate — children are killed and their jobs go back to ready; a QUIT during a
graceful stop makes it immediate. The handlers only note the signal (see ``stopping``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any

from django.db import connections

from django_solidq import hooks, joblog
from django_solidq.conf import get_config, queue_database
from django_solidq.exceptions import ProcessExitError, ProcessMissingError
from django_solidq.models import Process
from django_solidq.runtime.actor import Actor, build_actor
from django_solidq.runtime.child import child_main, config_dict
from django_solidq.runtime.process import Registered, keep_connections
from django_solidq.runtime.scheduler import describe
from django_solidq.runtime.stopping import EXIT_CLEAN, ignore_stop_signals, stop_signals_held
from django_solidq.runtime.waiting import Unstarted, shared_block, unstarted

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
    waiting: Any = None  # a worker child's shared block (runtime.waiting)


class Supervisor(Registered):
    kind = "supervisor"

    def __init__(self, slots: list[Slot], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.slots = slots
        self.immediate = False
        self._context = multiprocessing.get_context("spawn")
        # Children that exited while the database could not be told: (name, exit code, stop,
        # what a worker's shared block said of its unstarted claims).
        self._unsettled: list[tuple[str, int | None, bool, Unstarted | None]] = []
        # Since when (monotonic) maintenance has reached the database without a break; -inf
        # at boot, None after a failure (until the next success).
        self._reachable_since: float | None = float("-inf")
        # Restarts and maintenance read this clock (tests fake it).
        self.clock: Callable[[], float] = time.monotonic

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
                parts.append(describe(c))
            else:
                parts.append(f"dispatcher (batch {c.batch_size}, polling {c.polling_interval}s)")
        connection = connections[queue_database()]
        return (
            f"Supervisor {self.name} pid {os.getpid()} running {len(self.slots)} processes: "
            f"{'; '.join(parts)}; database {queue_database()!r} ({connection.vendor})"
        )

    # Signals -----------------------------------------------------------------------------
    def quit(self) -> None:
        """QUIT (acted on by the main loop, never in the handler): kill the children."""
        if not self.immediate:
            logger.info("Supervisor %s: SIGQUIT received; killing its processes", self.name)
            self.immediate = True
        self.stop()

    # Boot and maintenance ----------------------------------------------------------------
    def start(self, parent_pid: int | None = None) -> None:
        """Register, prune, and recover the claims of processes that are gone."""
        self.register(parent_pid)
        self.maintain()
        orphaned = Process.objects.orphaned_claims().recover_lost(
            ProcessMissingError, "claimed by a process that no longer exists"
        )
        joblog.losses(orphaned)
        if orphaned:
            logger.warning("Recovered %d job(s) claimed by processes that are gone", len(orphaned))

    def maintain(self) -> None:
        """Settle children that exited while the database was away, then prune processes
        that stopped heartbeating — but only once the database has been back for an alive
        threshold: during an outage nobody could heartbeat, and pruning the moment it ends
        would take every live process for dead and re-run its jobs while they still run."""
        with hooks.reported("supervisor maintenance", reset=True) as turn:
            self._settle_unsettled()
            if self._reachable_since is None:
                self._reachable_since = self.clock()
            self._prune()
        if turn.error is not None:
            self._reachable_since = None

    def _prune(self) -> None:
        threshold = get_config().process_alive_threshold
        if self._reachable_since is None or self.clock() - self._reachable_since < threshold:
            return
        pruned, losses = Process.objects.prune(threshold, excluding=self.process_id)
        joblog.losses(losses)
        if pruned:
            logger.warning("Pruned %d process(es) that stopped heartbeating", pruned)

    @property
    def process_id(self) -> int | None:
        return self.process.id if self.process else None

    def deregister(self) -> None:
        with hooks.reported("supervisor deregistration"):
            self._settle_unsettled()
            super().deregister()

    # Process mode ------------------------------------------------------------------------
    def run_processes(self) -> None:
        """The supervisor's life in process mode (``runjobs``)."""
        self.install_signal_handlers()
        logger.info(self.describe())
        self.start()
        self.run()
        self.deregister()
        logger.info("Supervisor %s stopped", self.name)
        ignore_stop_signals()

    def run(self) -> None:
        """Until stopped, keep a child process running for every slot."""
        try:
            self._supervise()
        finally:
            # Whatever ended the loop, the children stop with it: a supervisor that left
            # them running would wait for them at exit, deaf to signals.
            self._stop_children()

    def _supervise(self) -> None:
        interval = get_config().process_heartbeat_interval
        next_maintenance = time.monotonic() + interval
        while self.keep_running():
            self._start_missing_children()
            self._wait(min(interval, 0.5))
            if not self.keep_running():
                break  # children that exited on the same signal are not deaths to replace
            self._reap(stopping=False)
            if time.monotonic() >= next_maintenance:
                self.maintain()
                next_maintenance = time.monotonic() + interval

    def _start_missing_children(self) -> None:
        now = self.clock()
        for slot in self.slots:
            if slot.child is None and now >= slot.restart_at and not self.stopping.is_set():
                slot.name = f"{slot.kind}-{os.urandom(6).hex()}"
                slot.waiting = (
                    shared_block(self._context, slot.config.prefetch_limit)
                    if slot.kind == "worker"
                    else None
                )
                slot.child = self._context.Process(
                    target=child_main,
                    args=(
                        slot.kind,
                        config_dict(slot.config),
                        self.process_id,
                        slot.name,
                        os.getpid(),
                        slot.waiting,
                    ),
                    name=slot.name,
                    daemon=False,
                )
                with stop_signals_held():
                    slot.child.start()
                slot.started_at = now
                logger.info("Started %s %s (pid %s)", slot.kind, slot.name, slot.child.pid)

    def _live(self) -> list[tuple[Slot, BaseProcess]]:
        return [(s, s.child) for s in self.slots if s.child is not None and s.child.is_alive()]

    def _wait(self, timeout: float) -> None:
        """Until a child exits, a signal or a wake-up arrives, or ``timeout`` seconds pass."""
        self.waker.wait(timeout, also=[child.sentinel for _, child in self._live()])

    def _reap(self, stopping: bool) -> None:
        for slot in self.slots:
            if slot.child is not None and not slot.child.is_alive():
                slot.child.join()
                self._child_exited(slot, slot.child.exitcode, stopping)
                if self.clock() - slot.started_at < RESTART_BACKOFF:
                    slot.restart_at = self.clock() + RESTART_BACKOFF
                slot.child = None

    def _child_exited(self, slot: Slot, exitcode: int | None, stopping: bool) -> None:
        if exitcode != EXIT_CLEAN or not stopping:
            log = logger.info if stopping else logger.warning
            log("%s %s exited with status %s", slot.kind, slot.name, exitcode)
        waiting = unstarted(slot.waiting)  # the child is dead: nothing writes it any more
        slot.waiting = None
        with hooks.reported(f"settling the exit of {slot.name}") as turn:
            self._settle(slot.name, exitcode, stopping, waiting)
        if turn.error is not None:
            # The database is away: settle it at a later turn (a dead child's claims wait;
            # a live supervisor must not crash, or it would strand all of its children).
            self._unsettled.append((slot.name, exitcode, stopping, waiting))

    def _settle(
        self, name: str, exitcode: int | None, stopping: bool, waiting: Unstarted | None
    ) -> None:
        """Deregister an exited child: its unfinished jobs go back to ready untouched after
        our own stop, else each is a lost attempt — but for the claims a worker's block says
        it never started (``runtime.waiting``), which go back untouched."""
        row = Process.objects.filter(name=name).first()
        if row is None:
            return
        if stopping:
            row.deregister()
            return
        if waiting is not None:
            never_started = row.claims().unstarted(waiting.job_ids, waiting.claimed_after)
            released = never_started.release_all()
            if released:
                logger.info(
                    "%s: %d job(s) %s never started: back to ready", self.name, released, name
                )
        lost_with = (ProcessExitError, f"{name} exited with status {exitcode}")
        joblog.losses(row.deregister(lost_with=lost_with))

    def _settle_unsettled(self) -> None:
        while self._unsettled:
            self._settle(*self._unsettled[0])
            self._unsettled.pop(0)

    def _stop_children(self) -> None:
        if not self.immediate:
            for _, child in self._live():
                _signal(child, signal.SIGTERM)
            self._await_children(time.monotonic() + get_config().shutdown_timeout + 0.5)
        for slot, child in self._live():
            if not self.immediate:
                logger.warning("%s %s did not stop in time; killing it", slot.kind, slot.name)
            _signal(child, signal.SIGKILL)
            child.join()
        self._reap(stopping=True)

    def _await_children(self, deadline: float) -> None:
        """Until every child has exited, ``deadline`` passes, or a QUIT makes it immediate."""
        exiting = {child.sentinel: child for _, child in self._live()}
        while exiting and not self.immediate:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            for ready in self.waker.wait(remaining, also=list(exiting)):
                if ready in exiting:  # its process closed its last fd: it is exiting
                    exiting.pop(ready).join(max(0.0, deadline - time.monotonic()))
            self.act_on_signals()

    # Thread mode -------------------------------------------------------------------------
    def run_threads(self) -> None:
        """Everything in this one process (development, small sites)."""
        self.install_signal_handlers()
        keep_connections()
        logger.info(self.describe().replace("processes", "threads", 1))
        self.start()
        actors: list[Actor] = [
            build_actor(s.kind, config_dict(s.config), self.process_id, None, threaded=True)
            for s in self.slots
        ]
        threads = []
        for actor in actors:
            actor.start()
            thread = threading.Thread(target=actor.run, name=f"solidq-{actor.kind}", daemon=True)
            thread.start()
            threads.append(thread)
        interval = get_config().process_heartbeat_interval
        next_maintenance = time.monotonic() + interval
        while self.keep_running():
            self.sleep(max(0.0, next_maintenance - time.monotonic()))
            if time.monotonic() >= next_maintenance:
                self.maintain()
                next_maintenance = time.monotonic() + interval
        for actor in actors:
            actor.stop()
        for thread in threads:  # let each loop end its turn: no claim after the drain below
            thread.join(get_config().shutdown_timeout)
        drained = all([actor.drain() for actor in actors]) if not self.immediate else False
        for actor in actors:
            actor.deregister()  # releases whatever is still claimed back to ready
        super().deregister()
        ignore_stop_signals()
        if not drained:
            logging.shutdown()
            os._exit(0)  # job threads still running: end them with the process


def _signal(child: BaseProcess, sig: int) -> None:
    if child.pid is None:  # never started (os.kill(0) would signal our whole group)
        return
    try:
        os.kill(child.pid, sig)
    except ProcessLookupError:
        pass
