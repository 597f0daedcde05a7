"""The entry point of a supervised child process (a fresh interpreter: spawn, not fork)."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from typing import Any

import django

from django_solidq.runtime.stopping import (
    EXIT_ABANDONED,
    EXIT_CLEAN,
    accept_stop_signals,
    ignore_stop_signals,
)


def child_main(
    kind: str,
    config: dict[str, Any],
    supervisor_id: int,
    name: str,
    supervisor_pid: int,
    waiting_block: Any = None,
) -> None:
    # Stop signals are held back since the supervisor spawned us (stop_signals_held): one
    # that arrived while we booted is delivered once the handlers are in place.
    # This module is the spawned child's first import, before Django is set up: what needs
    # the models is imported after ``django.setup()``.
    django.setup()
    from django_solidq.runtime.actor import build_actor  # late import: after django.setup()
    from django_solidq.runtime.process import keep_connections  # late import: as above

    keep_connections()
    actor = build_actor(kind, config, supervisor_id, name, waiting_block=waiting_block)
    actor.install_signal_handlers()
    accept_stop_signals()
    actor.start(parent_pid=supervisor_pid)
    actor.run()
    if actor.drain():
        actor.deregister()
        ignore_stop_signals()
        sys.exit(EXIT_CLEAN)
    # Jobs still running: exit at once; the supervisor releases them once we are surely dead,
    # so no job ever runs twice at the same time.
    sys.stdout.flush()
    os._exit(EXIT_ABANDONED)


def config_dict(config: Any) -> dict[str, Any]:
    return asdict(config)
