"""``manage.py runjobs``: start the supervisor with the processes configured in SOLIDQ."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from django_solidq.conf import get_config, raw_setting, validate
from django_solidq.recurring import check_recurring, static_entries
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

    def handle(self, *args: Any, **options: Any) -> None:
        problems = validate(raw_setting())
        if not problems:  # (call_command skips the system checks: check recurring tasks here)
            problems = check_recurring()
        if problems:
            lines = "\n".join(f"{p.id}: {p.msg} {p.hint}".rstrip() for p in problems)
            raise CommandError(f"Invalid SOLIDQ setting:\n{lines}")
        slots = plan(
            options["only_workers"], options["only_dispatchers"], options["skip_recurring"]
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


def plan(only_workers: bool, only_dispatchers: bool, skip_recurring: bool = False) -> list[Slot]:
    """The processes to run. As in Solid Queue, ``--only-dispatchers`` keeps the scheduler and
    ``--only-workers`` drops it; it runs only when there are recurring tasks."""
    config = get_config()
    slots: list[Slot] = []
    if not only_dispatchers:
        for worker in config.workers:
            slots += [Slot("worker", worker) for _ in range(worker.processes)]
    if not only_workers:
        slots += [Slot("dispatcher", dispatcher) for dispatcher in config.dispatchers]
    if not only_workers and not skip_recurring:
        static_keys = tuple(static_entries())
        if static_keys or _dynamic_tasks_exist():
            slots.append(Slot("scheduler", SchedulerConfig(static_keys=static_keys)))
    return slots


def _dynamic_tasks_exist() -> bool:
    from django_solidq.models import RecurringTask

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
