"""The one table of ``SOLIDQ`` settings.

Each field of ``Config`` (and of ``WorkerConfig``, ``DispatcherConfig``, the entries of
``WORKERS`` and ``DISPATCHERS``) is one setting: its key (the field's name, upper-cased at the
top level), default, kind (type and bounds), the check id reported when it is invalid, and its
meaning. Validation and the ``Config`` built from the raw setting (``conf.validation``) and
the reference in docs/configuration.md (``python -m django_solidq.conf
--reference``) are all read from here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .kinds import (
    COMMAND_NAMES,
    DATABASE_ALIAS,
    DOTTED_PATH,
    DOTTED_PATHS,
    FLAG,
    MAX_ASYNC_CONCURRENCY,
    MAX_BATCH_SIZE,
    MAX_PREFETCH,
    MAX_PROCESSES,
    MAX_THREADS,
    PREFETCH_PER_THREAD,
    QUEUES,
    RECURRING_ENTRIES,
    Entries,
    Kind,
    count,
    seconds,
)

SETTING = "solidq_setting"  # the key of a field's metadata holding its Setting

PREFETCH_LEAST = 40  # the default prefetch: at least so many, however few the threads


@dataclass(frozen=True)
class Setting:
    """One row of the table."""

    name: str
    default: Any
    kind: Kind
    check_id: str
    meaning: str
    attribute: str  # the Config field

    def where(self, parent: str) -> str:
        return f"{parent}[{self.name!r}]"


def setting(default: Any, kind: Kind, check_id: str, meaning: str) -> Any:
    """Declare a Config field as a setting (the rest of its row comes from the field)."""
    row = {"default": default, "kind": kind, "check_id": check_id, "meaning": meaning}
    return dataclasses.field(metadata={SETTING: row})


def settings_of(config_type: type, upper: bool = False) -> tuple[Setting, ...]:
    """The table of a Config class, in declaration order."""
    return tuple(
        Setting(
            name=field.name.upper() if upper else field.name,
            attribute=field.name,
            **field.metadata[SETTING],
        )
        for field in dataclasses.fields(config_type)
    )


@dataclass(frozen=True)
class WorkerConfig:
    """One entry of ``SOLIDQ['WORKERS']``."""

    queues: tuple[str, ...] = setting(
        ["*"],
        QUEUES,
        "django_solidq.E005",
        'queues in the order they are polled. `"*"` is every queue, `"mail*"` every queue '
        "starting with `mail`. Paused queues are skipped.",
    )
    threads: int = setting(
        10,
        count(MAX_THREADS),
        "django_solidq.E005",
        "jobs one worker process runs at once (each thread holds its own database "
        "connection: see [deployment.md](deployment.md#postgresql-notes); past a few dozen, "
        "the GIL makes more processes the better tool). A worker claims for all its idle "
        "threads in one statement and finishes jobs that end together in one transaction, so "
        "more threads mean fewer transactions per job (about 0.3 with 10 threads, 1.3 with "
        "3).",
    )
    prefetch: int | None = setting(
        None,
        count(MAX_PREFETCH, zero=True, optional=True),
        "django_solidq.E005",
        "while a backlog waits, sync jobs one worker process claims beyond its idle threads, "
        "so that a thread that ends a job starts the next at once. `None` (the default): 4 "
        "per thread, at least 40 — 40 with the default 10 threads. Fewer when jobs are long "
        "(as many as the threads are expected to start within half of `prefetch_wait`). A job "
        "that waited counts no attempt if the worker dies; `0` claims for idle threads only (see "
        "[runjobs.md](runjobs.md#claiming-ahead)).",
    )
    prefetch_wait: float = setting(
        1.0,
        seconds(),
        "django_solidq.E005",
        "seconds a job claimed ahead may wait for a thread; then it goes back to ready for any "
        "worker to take, so long jobs don't hold short ones.",
    )
    async_concurrency: int = setting(
        100,
        count(MAX_ASYNC_CONCURRENCY),
        "django_solidq.E005",
        "`async def` jobs one worker process runs at once on its event loop; they take no "
        "thread (see [runjobs.md](runjobs.md#async-tasks)).",
    )
    processes: int = setting(
        1,
        count(MAX_PROCESSES),
        "django_solidq.E005",
        "how many worker processes with this configuration `runjobs` starts.",
    )
    polling_interval: float = setting(
        0.1,
        seconds(),
        "django_solidq.E005",
        "seconds an idle worker waits before polling again. On PostgreSQL an enqueue wakes "
        "idle workers at once with `LISTEN/NOTIFY`.",
    )

    @property
    def prefetch_limit(self) -> int:
        """How many sync jobs this worker claims ahead at most: ``prefetch``, or by default
        ``PREFETCH_PER_THREAD`` per thread and at least ``PREFETCH_LEAST`` (a claim is one
        statement and one commit however many rows it takes; with many threads, a fixed
        number would leave each a fraction of a job ahead). Within ``MAX_PREFETCH``, as
        ``threads`` is within ``MAX_THREADS``."""
        if self.prefetch is not None:
            return self.prefetch
        return max(PREFETCH_LEAST, PREFETCH_PER_THREAD * self.threads)


@dataclass(frozen=True)
class DispatcherConfig:
    """One entry of ``SOLIDQ['DISPATCHERS']``."""

    polling_interval: float = setting(
        1.0,
        seconds(),
        "django_solidq.E007",
        "seconds between looks for due scheduled jobs (no wait while batches come back full).",
    )
    batch_size: int = setting(
        500,
        count(MAX_BATCH_SIZE),
        "django_solidq.E007",
        "scheduled jobs moved to ready per transaction (one statement's parameters on SQLite).",
    )
    concurrency_maintenance_interval: float = setting(
        600.0,
        seconds(),
        "django_solidq.E007",
        "seconds between concurrency maintenance runs: expired permits freed, blocked jobs "
        "whose wait expired released (see [concurrency.md](concurrency.md)).",
    )


WORKERS = Entries(
    must="a list",
    hint="Set SOLIDQ['WORKERS'] to a list of dicts (an empty list runs none).",
    described="list of dicts (keys below)",
    entry_type=WorkerConfig,
    unknown_id="django_solidq.E004",
    entry_hint="Each worker is a dict like {'queues': ['default'], 'threads': 3}.",
)
DISPATCHERS = Entries(
    must="a list",
    hint="Set SOLIDQ['DISPATCHERS'] to a list of dicts (an empty list runs none).",
    described="list of dicts (keys below)",
    entry_type=DispatcherConfig,
    unknown_id="django_solidq.E006",
    entry_hint="Each dispatcher is a dict like {'polling_interval': 1, 'batch_size': 500}.",
)


@dataclass(frozen=True)
class Config:
    """The validated ``SOLIDQ`` setting."""

    database: str = setting(
        "default",
        DATABASE_ALIAS,
        "django_solidq.E009",
        "the database alias holding the queue tables.",
    )
    workers: tuple[WorkerConfig, ...] = setting(
        [{}],
        WORKERS,
        "django_solidq.E003",
        "the worker processes `runjobs` starts, each a dict of the keys in the Workers table.",
    )
    dispatchers: tuple[DispatcherConfig, ...] = setting(
        [{}],
        DISPATCHERS,
        "django_solidq.E003",
        "the dispatchers `runjobs` starts, each a dict of the keys in the Dispatchers table.",
    )
    shutdown_timeout: float = setting(
        5.0,
        seconds(),
        "django_solidq.E008",
        "on TERM/INT, seconds in-flight jobs get to finish; after that they go back to ready "
        "(never run twice at the same time).",
    )
    process_heartbeat_interval: float = setting(
        5.0, seconds(), "django_solidq.E008", "seconds between heartbeats of every process."
    )
    process_alive_threshold: float = setting(
        60.0,
        seconds(),
        "django_solidq.E008",
        "a process whose heartbeat is older is pruned by a supervisor, and its jobs re-run. "
        "At least twice `PROCESS_HEARTBEAT_INTERVAL` (`E020`).",
    )
    max_lost_attempts: int = setting(
        3,
        count(),
        "django_solidq.E008",
        "how many times a job may lose its worker (kill -9, crash, OOM, lost host) and be "
        "re-run before it is failed. A task can set its own with `@task(max_lost_attempts=…)`.",
    )
    preserve_finished_jobs: bool = setting(
        True,
        FLAG,
        "django_solidq.E008",
        "keep successful jobs (for results and the admin); `False` deletes them when they finish.",
    )
    silence_polling: bool = setting(
        True,
        FLAG,
        "django_solidq.E008",
        "keep workers' and dispatchers' polling queries out of the SQL log.",
    )
    listen_notify: bool = setting(
        True, FLAG, "django_solidq.E008", "PostgreSQL only: wake idle workers on enqueue."
    )
    prepared_statements: bool = setting(
        False,
        FLAG,
        "django_solidq.E008",
        "PostgreSQL only: run the workers' hot statements (claim, finish, permit hand-over) "
        "as prepared statements, planned once per connection (about 1 ms less per claim). "
        "Only where workers connect directly or through a pooler that keeps prepared "
        "statements (PgBouncer 1.21+ with `max_prepared_statements`): behind an older "
        "transaction pooler, statements of different clients share names on one server "
        "connection.",
    )
    on_thread_error: str | None = setting(
        None,
        DOTTED_PATH,
        "django_solidq.E008",
        "a callable `f(exception)` called on internal errors (a failed poll, a lost database "
        "connection), after they are logged.",
    )
    recurring: dict[str, dict[str, Any]] = setting(  # noqa: RUF009 (a Field, no default)
        {},
        RECURRING_ENTRIES,
        "django_solidq.E008",
        "recurring tasks, key -> options (task or command, schedule, args, kwargs, queue, "
        "priority, description); see [recurring.md](recurring.md).",
    )
    clear_finished_jobs: bool = setting(
        True,
        FLAG,
        "django_solidq.E008",
        "run the built-in recurring task `solidq_clear_finished` (every hour) that deletes "
        "jobs finished more than `CLEAR_FINISHED_JOBS_AFTER` ago; only when "
        "`PRESERVE_FINISHED_JOBS` is on.",
    )
    clear_finished_jobs_after: float = setting(
        86400.0,
        seconds(),
        "django_solidq.E008",
        "seconds a finished job is kept before the cleanup task (or `manage.py "
        "solidq_clear_finished`) deletes it.",
    )
    admin_recurring_commands: tuple[str, ...] = setting(
        [],
        COMMAND_NAMES,
        "django_solidq.E008",
        'management commands (names only, e.g. `["clearsessions"]`) that dynamic recurring '
        "tasks may run — added in the admin, by `schedule_recurring_task`, or written to the "
        "table any other way (the scheduler checks each tick). None by default: a command line "
        'can run any code (`shell -c "…"`), so an operator with `add_recurringtask` could '
        "otherwise run code on your workers. Tasks (`@task` paths) are always allowed, except "
        "the built-in command runner, refused under any name it is reachable by. Settings "
        "entries are not limited by this.",
    )
    middleware: tuple[str, ...] = setting(
        [],
        DOTTED_PATHS,
        "django_solidq.E008",
        "middleware factories wrapping every attempt: `factory(perform) -> "
        "callable(task_result) -> value`, first outermost (see "
        "[from-solid-queue.md](from-solid-queue.md)).",
    )
    default_timeout: float | None = setting(
        None,
        seconds(optional=True),
        "django_solidq.E008",
        "seconds an attempt may run before `JobTimeout` is raised in it; a task's "
        "`@task(timeout=…)` wins.",
    )
    timeout_grace: float = setting(
        10.0,
        seconds(),
        "django_solidq.E008",
        "seconds after the timeout before a job stuck in C code has its worker process "
        "replaced (recorded as a `JobTimeout`).",
    )
    default_concurrency_duration: float = setting(
        180.0,
        seconds(),
        "django_solidq.E008",
        "how long a concurrency permit lasts when the task's limit names no `duration`.",
    )
    batch_finishes: bool = setting(
        True,
        FLAG,
        "django_solidq.E008",
        "record successful jobs in batches from a finisher thread (one transaction for jobs "
        "that finish close together). A worker killed in the few milliseconds between a job's "
        "return and its batch's commit re-runs that job: at-least-once, as for any crash. "
        "`False` records each success in its own transaction.",
    )

    @property
    def clear_finished_jobs_after_delta(self) -> timedelta:
        return timedelta(seconds=self.clear_finished_jobs_after)


SETTINGS = settings_of(Config, upper=True)
WORKER_SETTINGS = settings_of(WorkerConfig)
DISPATCHER_SETTINGS = settings_of(DispatcherConfig)
WORKER_DEFAULTS: dict[str, Any] = {row.name: row.default for row in WORKER_SETTINGS}
