"""``manage.py runjobs``: start the supervisor with the processes configured in SOLIDQ."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.tasks.exceptions import InvalidTask

from django_solidq.conf import WORKER_DEFAULTS, WorkerConfig, get_config, raw_setting, validate
from django_solidq.models import RecurringTask
from django_solidq.recurring import check_recurring, solid_backend_alias, static_entries
from django_solidq.runtime.pidfile import Pidfile, PidfileTaken
from django_solidq.runtime.scheduler import SchedulerConfig
from django_solidq.runtime.supervisor import Slot, Supervisor


class Command(BaseCommand):
    help = "Run the job workers, dispatchers and scheduler configured in settings.SOLIDQ."
    requires_system_checks = ["__all__"]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--mode",
            choices=["process", "thread"],
            default="process",
            help="process (default): a fresh child process each; thread: all "
            "in this process, for development and small sites.",
        )
        parser.add_argument("--only-workers", action="store_true", help="Run workers only.")
        parser.add_argument("--only-dispatchers", action="store_true", help="Run dispatchers only.")
        parser.add_argument(
            "--skip-recurring", action="store_true", help="Do not run the recurring-task scheduler."
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Validate the configuration, print what would run, and exit.",
        )
        parser.add_argument("--pidfile", help="Refuse to start while this pidfile's process lives.")
        parser.add_argument(
            "--queues",
            type=_queues,
            help="Run one worker on these comma-separated queues ('*' all, 'mail*' a prefix) "
            "instead of the workers of SOLIDQ['WORKERS'].",
        )
        parser.add_argument(
            "--threads", type=_positive, help="Threads of each worker (overrides SOLIDQ)."
        )
        parser.add_argument(
            "--processes", type=_positive, help="Processes of each worker (overrides SOLIDQ)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            solid_backend_alias()
        except InvalidTask as exc:
            raise CommandError(
                f"{exc} Point TASKS at it: TASKS = {{'default': {{'BACKEND': "
                "'django_solidq.backend.SolidQueueBackend'}}."
            ) from exc
        problems = validate(raw_setting())
        if not problems:  # (call_command skips the system checks: check recurring tasks here)
            problems = check_recurring()
        if problems:
            lines = "\n".join(f"{p.id}: {p.msg} {p.hint}".rstrip() for p in problems)
            raise CommandError(f"Invalid SOLIDQ setting:\n{lines}")
        slots = plan(
            options["only_workers"],
            options["only_dispatchers"],
            options["skip_recurring"],
            workers=overridden_workers(options["queues"], options["threads"], options["processes"]),
        )
        if not slots:
            raise CommandError(
                "Nothing to run: SOLIDQ configures no workers, dispatchers or recurring tasks."
            )
        supervisor = Supervisor(slots)
        if options["check"]:
            self.stdout.write(f"Configuration OK. {supervisor.describe()}")
            return
        _configure_logging()
        try:
            with Pidfile(options["pidfile"]):
                if options["mode"] == "thread":
                    supervisor.run_threads()
                else:
                    supervisor.run_processes()
        except PidfileTaken as exc:
            raise CommandError(str(exc)) from exc


def plan(
    only_workers: bool,
    only_dispatchers: bool,
    skip_recurring: bool = False,
    workers: tuple[WorkerConfig, ...] | None = None,
) -> list[Slot]:
    """The processes to run. As in Solid Queue, ``--only-dispatchers`` keeps the scheduler and
    ``--only-workers`` drops it; it runs only when there are recurring tasks. ``workers``
    replaces the configured workers."""
    config = get_config()
    slots: list[Slot] = []
    if not only_dispatchers:
        for worker in config.workers if workers is None else workers:
            slots += [Slot("worker", worker) for _ in range(worker.processes)]
    if not only_workers:
        slots += [Slot("dispatcher", dispatcher) for dispatcher in config.dispatchers]
    if not only_workers and not skip_recurring:
        static_keys = tuple(static_entries())
        if static_keys or _dynamic_tasks_exist():
            slots.append(Slot("scheduler", SchedulerConfig(static_keys=static_keys)))
    return slots


def overridden_workers(
    queues: tuple[str, ...] | None, threads: int | None, processes: int | None
) -> tuple[WorkerConfig, ...] | None:
    """The workers the flags ask for: ``--queues`` replaces the configured workers with one
    (polling as the first configured worker), ``--threads`` / ``--processes`` set those of
    every worker. None when no flag is given."""
    if queues is None and threads is None and processes is None:
        return None
    workers = get_config().workers
    if queues is not None:
        polling = workers[0].polling_interval if workers else WORKER_DEFAULTS["polling_interval"]
        only = {"queues": queues, "processes": 1, "polling_interval": float(polling)}
        workers = (WorkerConfig(**{**WORKER_DEFAULTS, **only}),)
    return tuple(
        dataclasses.replace(
            worker,
            threads=worker.threads if threads is None else threads,
            processes=worker.processes if processes is None else processes,
        )
        for worker in workers
    )


def _queues(value: str) -> tuple[str, ...]:
    queues = tuple(name.strip() for name in value.split(",") if name.strip())
    if not queues:
        raise argparse.ArgumentTypeError("give at least one queue name, e.g. --queues mail,default")
    return queues


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {value!r}")
    return number


def _dynamic_tasks_exist() -> bool:
    try:
        return RecurringTask.objects.dynamic().exists()
    except DatabaseError:  # not migrated yet: the supervisor's boot reports it
        return False


def _configure_logging() -> None:
    logger = logging.getLogger("django_solidq")
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
