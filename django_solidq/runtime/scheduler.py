"""Scheduler: enqueues each recurring task once per tick of its schedule.

Any number of schedulers, on any number of hosts, may run: a tick is enqueued by writing its
unique ``RecurringExecution`` row together with the job, so only the first scheduler gets it.

* A task's first tick is the first one after the scheduler loads it (boot, a new or edited
  task): a past tick is never fired, and ticks missed while no scheduler ran are not replayed.
* The next tick is computed from the tick just handled, not from the clock, so ticks never
  drift; a tick found late (a slow database, a busy host) is still enqueued, unless it is more
  than ``CATCH_UP`` late — then the scheduler skips ahead to the next tick after now.
* The task set is re-read every ``polling_interval`` seconds: dynamic tasks appear and
  disappear without a restart. Static tasks are written from settings once, at boot.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError
from django.utils import timezone

from django_solidq import hooks
from django_solidq.models import RecurringTask
from django_solidq.recurring import enqueue_tick, static_definitions
from django_solidq.runtime.polling import quiet_polling
from django_solidq.runtime.process import Registered
from django_solidq.schedule import InvalidSchedule, Schedule

logger = logging.getLogger("django_solidq.scheduler")
CATCH_UP = timedelta(seconds=60)  # how late a running scheduler still enqueues a tick


@dataclass(frozen=True)
class SchedulerConfig:
    polling_interval: float = 1.0  # seconds between reloads of the task set
    static_keys: tuple[str, ...] = ()  # for the boot log line and the process row


def describe(config: SchedulerConfig) -> str:
    count = len(config.static_keys)
    return (
        f"scheduler ({count} static recurring task{'' if count == 1 else 's'}, "
        f"reloading every {config.polling_interval}s)"
    )


@dataclass
class Tick:
    """A loaded recurring task and its next tick."""

    task: RecurringTask
    schedule: Schedule
    next_at: datetime


class Ticks:
    """The next tick of every loaded task (no database: the scheduler feeds it rows)."""

    def __init__(self) -> None:
        self.by_key: dict[str, Tick] = {}
        self._invalid: dict[str, str] = {}

    def load(self, rows: Iterable[RecurringTask], now: datetime) -> None:
        """Take the current task set. A task already loaded keeps its next tick unless its
        schedule changed; a new or rescheduled one starts at its first tick after ``now``."""
        loaded: dict[str, Tick] = {}
        for row in rows:
            current = self.by_key.get(row.key)
            if current is not None and current.task.schedule == row.schedule:
                current.task = row
                loaded[row.key] = current
                continue
            try:
                schedule = row.parsed_schedule()
                loaded[row.key] = Tick(row, schedule, schedule.next_time(now))
            except InvalidSchedule as exc:
                if self._invalid.get(row.key) != row.schedule:  # say it once per schedule
                    logger.error("Recurring task %r is not scheduled: %s", row.key, exc)
                    self._invalid[row.key] = row.schedule
        self.by_key = loaded

    def due(self, now: datetime) -> list[Tick]:
        return sorted(
            (tick for tick in self.by_key.values() if tick.next_at <= now),
            key=lambda tick: tick.next_at,
        )

    def next_at(self) -> datetime | None:
        return min((tick.next_at for tick in self.by_key.values()), default=None)

    @staticmethod
    def advance(tick: Tick, now: datetime) -> None:
        """Move to the tick after the current one; ticks more than ``CATCH_UP`` behind ``now``
        are skipped, not replayed."""
        following = tick.schedule.next_time(tick.next_at)
        if now - following > CATCH_UP:
            logger.warning(
                "Recurring task %r: skipping the ticks missed since %s", tick.task.key, following
            )
            following = tick.schedule.next_time(now)
        tick.next_at = following


class Scheduler(Registered):
    kind = "scheduler"

    def __init__(self, config: SchedulerConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.ticks = Ticks()
        self._synced = False

    def metadata(self) -> dict[str, Any]:
        return {
            "recurring_tasks": list(self.config.static_keys),
            "polling_interval": self.config.polling_interval,
        }

    def run(self) -> None:
        next_reload = 0.0
        while self.keep_running():
            if time.monotonic() >= next_reload:
                self.reload()
                next_reload = time.monotonic() + self.config.polling_interval
            with hooks.reported("scheduler") as turn:  # one bad tick never stops it
                enqueued = self.enqueue_due()
            self.sleep(self._until_next_turn(next_reload, turn.error is not None or not enqueued))

    def _until_next_turn(self, next_reload: float, failed: bool) -> float:
        until_reload = max(0.0, next_reload - time.monotonic())
        if failed:
            return max(until_reload, 0.1)
        next_at = self.ticks.next_at()
        if next_at is None:
            return until_reload
        return max(0.0, min(until_reload, (next_at - timezone.now()).total_seconds()))

    def reload(self) -> None:
        """Sync the static tasks (once), then re-read every task."""
        with hooks.reported("scheduler reload"):
            if not self._synced:
                self.sync_static()
                self._synced = True
            with quiet_polling():
                rows = list(RecurringTask.objects.order_by("key"))
            self.ticks.load(rows, timezone.now())

    def sync_static(self) -> None:
        definitions = static_definitions()  # invalid entries are logged and skipped
        written, deleted = RecurringTask.objects.sync_static(definitions)
        logger.info(
            "%s: %d static recurring task(s) (%d written, %d removed)",
            self.name,
            len(definitions),
            written,
            deleted,
        )

    def enqueue_due(self) -> bool:
        """Enqueue every due tick. False when the database failed (retried next turn)."""
        now = timezone.now()
        for tick in self.ticks.due(now):
            while tick.next_at <= now and not self.stopping.is_set():
                job = None
                with hooks.reported(f"scheduler, recurring task {tick.task.key!r}") as turn:
                    job = enqueue_tick(tick.task, tick.next_at)
                if isinstance(turn.error, DatabaseError):
                    return False  # the database failed: this tick again, next turn
                # Otherwise the task itself is broken: its tick is skipped.
                if job is not None:
                    logger.debug(
                        "Enqueued recurring task %r for %s (job %s)",
                        tick.task.key,
                        tick.next_at.isoformat(),
                        job.pk,
                    )
                self.ticks.advance(tick, now)
        return True
