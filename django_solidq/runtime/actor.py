"""Actor: what the supervisor and a child process know of a worker, a dispatcher or a
scheduler — and what the supervisor is itself.

Its life: ``install_signal_handlers()`` (in a process's main thread), ``start()`` (register,
start its helper threads), ``run()`` (the loop, until stopped), ``drain()`` (wait for work in
flight), ``deregister()``. ``stop()`` ends the loop from any thread. An actor built for thread
mode (``build_actor(..., threaded=True)``) shares its process with the others: it never ends
the process on its own.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from django_solidq.conf import DispatcherConfig, WorkerConfig
from django_solidq.runtime.dispatcher import Dispatcher
from django_solidq.runtime.scheduler import Scheduler, SchedulerConfig
from django_solidq.runtime.worker import Worker


@runtime_checkable
class Actor(Protocol):
    kind: str  # "worker", "dispatcher", "scheduler", "supervisor"
    name: str

    def install_signal_handlers(self) -> None:
        """TERM and INT stop it gracefully, QUIT at once (main thread only)."""

    def start(self, parent_pid: int | None = None) -> None:
        """Join the process registry and start its helper threads; with ``parent_pid``, stop
        when that process (its supervisor) is gone."""

    def run(self) -> None:
        """The loop, until stopped (a signal, ``stop()``, or its row pruned)."""

    def stop(self) -> None:
        """End the loop after its current turn (any thread; never a signal handler)."""

    def drain(self) -> bool:
        """After ``run``: wait for the work in flight; True if all of it ended in time."""

    def deregister(self) -> None:
        """Leave the registry; whatever it still holds goes back to ready."""


def build_actor(
    kind: str,
    config: dict[str, Any],
    supervisor_id: int | None,
    name: str | None,
    threaded: bool = False,
    waiting_block: Any = None,
) -> Actor:
    """The actor of a configured process, from its config as a dict (what a spawned child
    receives); a worker child also gets the memory its supervisor reads its waiting jobs
    from (``runtime.waiting``)."""
    if kind == "worker":
        worker = Worker(
            WorkerConfig(**config),
            waiting_block=waiting_block,
            supervisor_id=supervisor_id,
            name=name,
        )
        worker.watchdog.hard = not threaded  # one process for all: never exit on a stuck job
        return worker
    if kind == "dispatcher":
        return Dispatcher(DispatcherConfig(**config), supervisor_id=supervisor_id, name=name)
    if kind == "scheduler":
        return Scheduler(SchedulerConfig(**config), supervisor_id=supervisor_id, name=name)
    raise ValueError(f"Unknown process kind {kind!r}")
