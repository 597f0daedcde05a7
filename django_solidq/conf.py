"""The ``SOLIDQ`` setting: defaults, validation and a cached accessor.

Keys mirror Solid Queue's ``queue.yml`` (workers, dispatchers) plus the runtime knobs.
Validation returns ``Problem`` rows so that system checks and ``runjobs --check`` report the
same stable IDs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

WORKER_DEFAULTS: dict[str, Any] = {
    "queues": ["*"],
    "threads": 10,
    "processes": 1,
    "polling_interval": 0.1,
    # ``async def`` tasks in flight at once on the worker process's event loop.
    "async_concurrency": 100,
}
DISPATCHER_DEFAULTS: dict[str, Any] = {
    "polling_interval": 1.0,
    "batch_size": 500,
    "concurrency_maintenance_interval": 600.0,
}
DEFAULTS: dict[str, Any] = {
    "DATABASE": "default",
    "WORKERS": [dict(WORKER_DEFAULTS)],
    "DISPATCHERS": [dict(DISPATCHER_DEFAULTS)],
    "RECURRING": {},
    # Management commands (by name) the admin may schedule as dynamic recurring tasks. None
    # by default: a command line can run any code (``shell -c``), tasks cannot.
    "ADMIN_RECURRING_COMMANDS": [],
    "MIDDLEWARE": [],
    "SHUTDOWN_TIMEOUT": 5.0,
    "PROCESS_HEARTBEAT_INTERVAL": 5.0,
    "PROCESS_ALIVE_THRESHOLD": 60.0,
    "MAX_LOST_ATTEMPTS": 3,
    "DEFAULT_TIMEOUT": None,
    "TIMEOUT_GRACE": 10.0,
    "DEFAULT_CONCURRENCY_DURATION": 180.0,
    "PRESERVE_FINISHED_JOBS": True,
    "BATCH_FINISHES": True,
    "CLEAR_FINISHED_JOBS_AFTER": 86400.0,
    "CLEAR_FINISHED_JOBS": True,
    "SILENCE_POLLING": True,
    "LISTEN_NOTIFY": True,
    "ON_THREAD_ERROR": None,
}
POSITIVE_NUMBERS = (
    "TIMEOUT_GRACE",
    "SHUTDOWN_TIMEOUT",
    "PROCESS_HEARTBEAT_INTERVAL",
    "PROCESS_ALIVE_THRESHOLD",
    "DEFAULT_CONCURRENCY_DURATION",
    "CLEAR_FINISHED_JOBS_AFTER",
)
BOOLEANS = (
    "PRESERVE_FINISHED_JOBS",
    "BATCH_FINISHES",
    "SILENCE_POLLING",
    "LISTEN_NOTIFY",
    "CLEAR_FINISHED_JOBS",
)


# Upper bounds, so that a value the checks accept also runs (see docs/configuration.md).
MAX_SECONDS = 365 * 86400.0  # any seconds setting: timers and date arithmetic take it
MAX_THREADS = 128  # per worker process: each thread holds a database connection
MAX_PROCESSES = 128  # worker processes per entry: each is an interpreter and a connection
MAX_BATCH_SIZE = 10_000  # scheduled jobs moved per statement (SQLite's parameter limit)
MAX_ASYNC_CONCURRENCY = 10_000  # async jobs in flight per worker process
UPPER_BOUNDS = {
    "threads": MAX_THREADS,
    "processes": MAX_PROCESSES,
    "batch_size": MAX_BATCH_SIZE,
    "async_concurrency": MAX_ASYNC_CONCURRENCY,
}
# Dotted-path settings: each must import to a callable (the system check E021).
DOTTED_PATHS = ("MIDDLEWARE", "ON_THREAD_ERROR")


@dataclass(frozen=True)
class Problem:
    """One configuration error: a stable check id and a message naming the key and the fix."""

    id: str
    msg: str
    hint: str = ""


@dataclass(frozen=True)
class WorkerConfig:
    queues: tuple[str, ...]
    threads: int
    processes: int
    polling_interval: float
    async_concurrency: int = 100


@dataclass(frozen=True)
class DispatcherConfig:
    polling_interval: float
    batch_size: int
    concurrency_maintenance_interval: float


@dataclass(frozen=True)
class Config:
    """The validated ``SOLIDQ`` setting."""

    database: str
    workers: tuple[WorkerConfig, ...]
    dispatchers: tuple[DispatcherConfig, ...]
    recurring: dict[str, dict[str, Any]] = field(default_factory=dict)
    middleware: tuple[str, ...] = ()
    admin_recurring_commands: tuple[str, ...] = ()
    shutdown_timeout: float = 5.0
    process_heartbeat_interval: float = 5.0
    process_alive_threshold: float = 60.0
    max_lost_attempts: int = 3
    default_timeout: float | None = None
    timeout_grace: float = 10.0
    default_concurrency_duration: float = 180.0
    preserve_finished_jobs: bool = True
    batch_finishes: bool = True
    clear_finished_jobs_after: float = 86400.0
    clear_finished_jobs: bool = True
    silence_polling: bool = True
    listen_notify: bool = True
    on_thread_error: str | None = None

    @property
    def clear_finished_jobs_after_delta(self) -> timedelta:
        return timedelta(seconds=self.clear_finished_jobs_after)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _seconds(value: Any) -> Any:
    return value.total_seconds() if isinstance(value, timedelta) else value


def _check_positive_int(where: str, key: str, value: Any, check_id: str) -> list[Problem]:
    upper = UPPER_BOUNDS.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        if upper is None or value <= upper:
            return []
    most = f" (at most {upper:,})" if upper else ""
    return [
        Problem(
            check_id,
            f"{where}[{key!r}] must be a positive whole number, got {value!r:.60}.",
            f"Set {key!r} to 1 or more{most}.",
        )
    ]


def _check_positive_number(where: str, key: str, value: Any, check_id: str) -> list[Problem]:
    seconds = _seconds(value)
    if _is_number(seconds) and 0 < seconds <= MAX_SECONDS:  # also refuses nan and inf
        return []
    return [
        Problem(
            check_id,
            f"{where}[{key!r}] must be a positive number of seconds (at most a year), got "
            f"{value!r:.60}.",
            f"Set {key!r} to a number greater than 0 and at most {MAX_SECONDS:,.0f} (or a "
            "timedelta).",
        )
    ]


def _check_unknown(
    where: str, entry: dict[str, Any], allowed: dict[str, Any], check_id: str
) -> list[Problem]:
    return [
        Problem(
            check_id,
            f"Unknown key {key!r} in {where}.",
            f"Allowed keys are: {', '.join(sorted(allowed))}.",
        )
        for key in entry
        if key not in allowed
    ]


def _check_queues(where: str, queues: Any) -> list[Problem]:
    if isinstance(queues, str):
        queues = [queues]
    if (
        isinstance(queues, list | tuple)
        and queues
        and all(isinstance(q, str) and q.strip() for q in queues)
    ):
        return []
    return [
        Problem(
            "django_solidq.E005",
            f"{where}['queues'] must be a non-empty list of queue names, got {queues!r}.",
            "Use e.g. ['critical', 'default'], '*' for every queue or 'mail*' for a prefix.",
        )
    ]


def _check_worker(index: int, entry: Any) -> list[Problem]:
    where = f"SOLIDQ['WORKERS'][{index}]"
    if not isinstance(entry, dict):
        return [
            Problem(
                "django_solidq.E003",
                f"{where} must be a dict, got {type(entry).__name__}.",
                "Each worker is a dict like {'queues': ['default'], 'threads': 3}.",
            )
        ]
    problems = _check_unknown(where, entry, WORKER_DEFAULTS, "django_solidq.E004")
    merged = {**WORKER_DEFAULTS, **entry}
    problems += _check_queues(where, merged["queues"])
    problems += _check_positive_int(where, "threads", merged["threads"], "django_solidq.E005")
    problems += _check_positive_int(where, "processes", merged["processes"], "django_solidq.E005")
    problems += _check_positive_int(
        where, "async_concurrency", merged["async_concurrency"], "django_solidq.E005"
    )
    problems += _check_positive_number(
        where, "polling_interval", merged["polling_interval"], "django_solidq.E005"
    )
    return problems


def _check_dispatcher(index: int, entry: Any) -> list[Problem]:
    where = f"SOLIDQ['DISPATCHERS'][{index}]"
    if not isinstance(entry, dict):
        return [
            Problem(
                "django_solidq.E003",
                f"{where} must be a dict, got {type(entry).__name__}.",
                "Each dispatcher is a dict like {'polling_interval': 1, 'batch_size': 500}.",
            )
        ]
    problems = _check_unknown(where, entry, DISPATCHER_DEFAULTS, "django_solidq.E006")
    merged = {**DISPATCHER_DEFAULTS, **entry}
    problems += _check_positive_int(where, "batch_size", merged["batch_size"], "django_solidq.E007")
    for key in ("polling_interval", "concurrency_maintenance_interval"):
        problems += _check_positive_number(where, key, merged[key], "django_solidq.E007")
    return problems


def _check_list(key: str, value: Any) -> list[Problem]:
    if isinstance(value, list | tuple):
        return []
    return [
        Problem(
            "django_solidq.E003",
            f"SOLIDQ[{key!r}] must be a list, got {type(value).__name__}.",
            f"Set SOLIDQ[{key!r}] to a list of dicts (an empty list runs none).",
        )
    ]


def _check_scalars(merged: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    for key in POSITIVE_NUMBERS:
        problems += _check_positive_number("SOLIDQ", key, merged[key], "django_solidq.E008")
    for key in BOOLEANS:
        if not isinstance(merged[key], bool):
            problems.append(
                Problem(
                    "django_solidq.E008",
                    f"SOLIDQ[{key!r}] must be True or False, got {merged[key]!r}.",
                )
            )
    problems += _check_positive_int(
        "SOLIDQ", "MAX_LOST_ATTEMPTS", merged["MAX_LOST_ATTEMPTS"], "django_solidq.E008"
    )
    if merged["DEFAULT_TIMEOUT"] is not None:
        problems += _check_positive_number(
            "SOLIDQ", "DEFAULT_TIMEOUT", merged["DEFAULT_TIMEOUT"], "django_solidq.E008"
        )
    if not isinstance(merged["MIDDLEWARE"], list | tuple) or not all(
        isinstance(m, str) for m in merged["MIDDLEWARE"]
    ):
        problems.append(
            Problem(
                "django_solidq.E008",
                "SOLIDQ['MIDDLEWARE'] must be a list of dotted paths.",
                "Use e.g. ['myapp.jobs.timing_middleware'].",
            )
        )
    commands = merged["ADMIN_RECURRING_COMMANDS"]
    if not isinstance(commands, list | tuple) or not all(
        isinstance(c, str) and c.strip() and " " not in c.strip() for c in commands
    ):
        problems.append(
            Problem(
                "django_solidq.E008",
                "SOLIDQ['ADMIN_RECURRING_COMMANDS'] must be a list of management command names.",
                "Use e.g. ['clearsessions'] (names only, no arguments).",
            )
        )
    if not isinstance(merged["RECURRING"], dict):
        problems.append(
            Problem(
                "django_solidq.E008", "SOLIDQ['RECURRING'] must be a dict of task key -> options."
            )
        )
    problems += _check_heartbeat(merged)
    problems += _check_dotted_paths(merged)
    if not isinstance(merged["DATABASE"], str) or merged["DATABASE"] not in settings.DATABASES:
        problems.append(
            Problem(
                "django_solidq.E009",
                f"SOLIDQ['DATABASE'] is {merged['DATABASE']!r}, which is not in DATABASES.",
                f"Use one of: {', '.join(settings.DATABASES)}.",
            )
        )
    return problems


def _check_heartbeat(merged: dict[str, Any]) -> list[Problem]:
    interval = _seconds(merged["PROCESS_HEARTBEAT_INTERVAL"])
    threshold = _seconds(merged["PROCESS_ALIVE_THRESHOLD"])
    if not (_is_number(interval) and _is_number(threshold)) or threshold >= 2 * interval:
        return []  # bad values are E008; a threshold of two heartbeats or more is fine
    return [
        Problem(
            "django_solidq.E020",
            f"SOLIDQ['PROCESS_ALIVE_THRESHOLD'] ({threshold!r}s) is less than twice "
            f"SOLIDQ['PROCESS_HEARTBEAT_INTERVAL'] ({interval!r}s): live processes would be "
            "pruned between two heartbeats (or after one late one), and their jobs re-run.",
            "Set PROCESS_ALIVE_THRESHOLD to several heartbeat intervals (defaults: 60 and 5), "
            "or lower PROCESS_HEARTBEAT_INTERVAL.",
        )
    ]


def _check_dotted_paths(merged: dict[str, Any]) -> list[Problem]:
    """Each dotted-path setting imports, to a callable (E021); a wrong type is E008."""
    from django.utils.module_loading import import_string

    problems: list[Problem] = []
    for key in DOTTED_PATHS:
        value = merged[key]
        listed = key == "MIDDLEWARE"
        paths = value if listed and isinstance(value, list | tuple) else [value]
        for index, path in enumerate(paths):
            if not isinstance(path, str):  # a list entry that is not a string: E008 already
                if not listed and path is not None:
                    problems += _not_a_path(key, path)
                continue
            where = f"SOLIDQ[{key!r}]" + (f"[{index}]" if listed else "")
            try:
                found = import_string(path)
            except Exception as exc:  # ImportError, or whatever the module raised
                problems.append(
                    Problem(
                        "django_solidq.E021",
                        f"{where} {path!r:.200} cannot be imported: {exc}.",
                        "Fix the dotted path (module.attribute) or remove it.",
                    )
                )
                continue
            if not callable(found):
                problems.append(
                    Problem(
                        "django_solidq.E021",
                        f"{where} {path!r:.200} is a {type(found).__name__}, not a callable.",
                        "Point it at a function (or a class) to call.",
                    )
                )
    return problems


def _not_a_path(key: str, value: Any) -> list[Problem]:
    return [
        Problem(
            "django_solidq.E008",
            f"SOLIDQ[{key!r}] must be a dotted path or None, got {value!r:.60}.",
            "Use e.g. 'myapp.jobs.report_error'.",
        )
    ]


def validate(raw: Any) -> list[Problem]:
    """Every problem with a raw ``SOLIDQ`` value, each with a stable id."""
    if not isinstance(raw, dict):
        return [
            Problem(
                "django_solidq.E001",
                f"SOLIDQ must be a dict, got {type(raw).__name__}.",
                "Set SOLIDQ = {...} in settings, or remove it to use the defaults.",
            )
        ]
    problems = _check_unknown("SOLIDQ", raw, DEFAULTS, "django_solidq.E002")
    merged = {**DEFAULTS, **raw}
    for key, check in (("WORKERS", _check_worker), ("DISPATCHERS", _check_dispatcher)):
        problems += _check_list(key, merged[key])
        if isinstance(merged[key], list | tuple):
            for index, entry in enumerate(merged[key]):
                problems += check(index, entry)
    return problems + _check_scalars(merged)


def _build(raw: dict[str, Any]) -> Config:
    merged = {**DEFAULTS, **raw}
    workers = tuple(
        WorkerConfig(
            queues=tuple([w["queues"]] if isinstance(w["queues"], str) else w["queues"]),
            threads=w["threads"],
            processes=w["processes"],
            polling_interval=float(_seconds(w["polling_interval"])),
            async_concurrency=w["async_concurrency"],
        )
        for w in ({**WORKER_DEFAULTS, **entry} for entry in merged["WORKERS"])
    )
    dispatchers = tuple(
        DispatcherConfig(
            polling_interval=float(_seconds(d["polling_interval"])),
            batch_size=d["batch_size"],
            concurrency_maintenance_interval=float(_seconds(d["concurrency_maintenance_interval"])),
        )
        for d in ({**DISPATCHER_DEFAULTS, **entry} for entry in merged["DISPATCHERS"])
    )
    timeout = merged["DEFAULT_TIMEOUT"]
    return Config(
        database=merged["DATABASE"],
        workers=workers,
        dispatchers=dispatchers,
        recurring=dict(merged["RECURRING"]),
        middleware=tuple(merged["MIDDLEWARE"]),
        admin_recurring_commands=tuple(c.strip() for c in merged["ADMIN_RECURRING_COMMANDS"]),
        shutdown_timeout=float(_seconds(merged["SHUTDOWN_TIMEOUT"])),
        process_heartbeat_interval=float(_seconds(merged["PROCESS_HEARTBEAT_INTERVAL"])),
        process_alive_threshold=float(_seconds(merged["PROCESS_ALIVE_THRESHOLD"])),
        max_lost_attempts=merged["MAX_LOST_ATTEMPTS"],
        default_timeout=None if timeout is None else float(_seconds(timeout)),
        timeout_grace=float(_seconds(merged["TIMEOUT_GRACE"])),
        default_concurrency_duration=float(_seconds(merged["DEFAULT_CONCURRENCY_DURATION"])),
        preserve_finished_jobs=merged["PRESERVE_FINISHED_JOBS"],
        batch_finishes=merged["BATCH_FINISHES"],
        clear_finished_jobs_after=float(_seconds(merged["CLEAR_FINISHED_JOBS_AFTER"])),
        clear_finished_jobs=merged["CLEAR_FINISHED_JOBS"],
        silence_polling=merged["SILENCE_POLLING"],
        listen_notify=merged["LISTEN_NOTIFY"],
        on_thread_error=merged["ON_THREAD_ERROR"],
    )


def raw_setting() -> Any:
    return getattr(settings, "SOLIDQ", {})


@functools.cache
def get_config() -> Config:
    """The validated configuration; raises ImproperlyConfigured listing every problem."""
    raw = raw_setting()
    problems = validate(raw)
    if problems:
        lines = "\n".join(f"  {p.id}: {p.msg} {p.hint}".rstrip() for p in problems)
        raise ImproperlyConfigured(f"Invalid SOLIDQ setting:\n{lines}")
    return _build(raw)


def queue_database() -> str:
    """The database alias that holds the queue tables.

    Read straight from the setting so that a mistake elsewhere in SOLIDQ is reported by the
    system checks rather than raised by every query.
    """
    raw = raw_setting()
    database = raw.get("DATABASE", DEFAULTS["DATABASE"]) if isinstance(raw, dict) else None
    return database if isinstance(database, str) else DEFAULTS["DATABASE"]


@receiver(setting_changed)
def _reset_config(*, setting: str, **kwargs: Any) -> None:
    if setting in ("SOLIDQ", "DATABASES"):
        get_config.cache_clear()
