"""What a setting's value may be: one ``Kind`` per shape of value, each saying whether a value
is acceptable (and the fix when not), what it becomes in the ``Config``, and how the
configuration reference describes it.

A kind judges the value alone. Checks that need more than the value — the database alias
against ``DATABASES``, a dotted path importing — are its ``environment_problems``, reported
only for values of the right shape (``conf.validation``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

# Upper bounds, so that a value the checks accept also runs (see docs/configuration.md).
MAX_SECONDS = 365 * 86400.0  # any seconds setting: timers and date arithmetic take it
MAX_THREADS = 128  # per worker process: each thread holds a database connection
PREFETCH_PER_THREAD = 4  # the default prefetch: jobs claimed ahead per thread (at least 40)
MAX_PREFETCH = PREFETCH_PER_THREAD * MAX_THREADS  # per worker process (16 shared bytes each)
MAX_PROCESSES = 128  # worker processes per entry: each is an interpreter and a connection
MAX_ASYNC_CONCURRENCY = 10_000  # async jobs in flight per worker process
MAX_BATCH_SIZE = 10_000  # scheduled jobs moved per statement (SQLite's parameter limit)

# What a failed environment check reports: (message, hint), the key's location prefixed.
Found = list[tuple[str, str]]


def seconds_of(value: Any) -> Any:
    return value.total_seconds() if isinstance(value, timedelta) else value


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


@dataclass(frozen=True)
class Kind:
    """A shape of value. ``must`` completes "<key> must be …" in the error message; ``hint``
    says the fix (``{key}`` and ``{databases}`` are filled in: write other braces doubled);
    ``described`` is the reference's type column."""

    must: str
    hint: str = ""
    described: str = ""
    environment_id: str | None = None  # the check id of ``environment_problems``

    def accepts(self, value: Any) -> bool:
        raise NotImplementedError

    def convert(self, value: Any) -> Any:
        """The accepted value as the ``Config`` holds it."""
        return value

    def environment_problems(self, where: str, value: Any) -> Found:
        """Problems of an accepted value that depend on the rest of the project."""
        return []

    def message(self, where: str, value: Any) -> str:
        return f"{where} must be {self.must}, got {value!r:.60}."

    def hint_for(self, key: str) -> str:
        return self.hint.format(key=repr(key), databases=", ".join(settings.DATABASES))

    def show(self, default: Any) -> str:
        """The default, as the reference prints it."""
        if default is None or isinstance(default, bool):
            return f"`{default!r}`"
        return f"`{json.dumps(default)}`"


@dataclass(frozen=True)
class Count(Kind):
    upper: int | None = None
    lower: int = 1
    optional: bool = False

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.optional
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.lower <= value <= (self.upper or value)
        )


def count(upper: int | None = None, zero: bool = False, optional: bool = False) -> Count:
    """A whole number from 1 (from 0 with ``zero``) up to ``upper``; or None (``optional``:
    the setting's documented default applies)."""
    lower = 0 if zero else 1
    most = f" (at most {upper:,})" if upper else ""
    described = f"whole number, {lower} to {upper:,}" if upper else f"whole number, {lower} or more"
    return Count(
        must="a whole number of 0 or more" if zero else "a positive whole number",
        hint=f"Set {{key}} to {lower} or more{most}{' or None' if optional else ''}.",
        described=described + (", or None" if optional else ""),
        upper=upper,
        lower=lower,
        optional=optional,
    )


@dataclass(frozen=True)
class Seconds(Kind):
    optional: bool = False

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.optional
        seconds = seconds_of(value)
        return is_number(seconds) and 0 < seconds <= MAX_SECONDS  # refuses nan and inf too

    def convert(self, value: Any) -> float | None:
        return None if value is None else float(seconds_of(value))


def seconds(optional: bool = False) -> Seconds:
    return Seconds(
        must="a positive number of seconds (at most a year)",
        hint="Set {key} to a number greater than 0 and at most "
        f"{MAX_SECONDS:,.0f} (or a timedelta){' or None' if optional else ''}.",
        described="seconds, 0 < s ≤ 1 year (number or timedelta)"
        + (", or None" if optional else ""),
        optional=optional,
    )


@dataclass(frozen=True)
class Flag(Kind):
    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool)


FLAG = Flag(must="True or False", described="True or False")


@dataclass(frozen=True)
class Queues(Kind):
    """Queue names in polling order; a single string is a list of one."""

    def accepts(self, value: Any) -> bool:
        names = self.convert(value) if isinstance(value, str | list | tuple) else None
        return bool(names) and all(is_text(name) for name in names or ())

    def convert(self, value: Any) -> tuple[str, ...]:
        return (value,) if isinstance(value, str) else tuple(value)


QUEUES = Queues(
    must="a non-empty list of queue names",
    hint="Use e.g. ['critical', 'default'], '*' for every queue or 'mail*' for a prefix.",
    described="list of queue names (`*` all, `mail*` a prefix)",
)


@dataclass(frozen=True)
class Names(Kind):
    """A list of strings, each accepted by ``each``."""

    each: Callable[[Any], bool] = is_text

    def accepts(self, value: Any) -> bool:
        return isinstance(value, list | tuple) and all(self.each(item) for item in value)

    def convert(self, value: Any) -> tuple[str, ...]:
        return tuple(item.strip() for item in value)


def _command_name(value: Any) -> bool:
    return is_text(value) and " " not in value.strip()


COMMAND_NAMES = Names(
    must="a list of management command names",
    hint="Use e.g. ['clearsessions'] (names only, no arguments).",
    described="list of command names",
    each=_command_name,
)


def _import_problems(where: str, path: str) -> Found:
    try:
        found = import_string(path)
    except Exception as exc:  # ImportError, or whatever the module raised
        return [
            (
                f"{where} {path!r:.200} cannot be imported: {exc}.",
                "Fix the dotted path (module.attribute) or remove it.",
            )
        ]
    if not callable(found):
        return [
            (
                f"{where} {path!r:.200} is a {type(found).__name__}, not a callable.",
                "Point it at a function (or a class) to call.",
            )
        ]
    return []


@dataclass(frozen=True)
class DottedPaths(Names):
    """Dotted paths of callables; that each imports is its environment check."""

    def convert(self, value: Any) -> tuple[str, ...]:
        return tuple(value)

    def environment_problems(self, where: str, value: Any) -> Found:
        return [
            problem
            for index, path in enumerate(value)
            for problem in _import_problems(f"{where}[{index}]", path)
        ]


@dataclass(frozen=True)
class DottedPath(Kind):
    """One dotted path of a callable, or None."""

    def accepts(self, value: Any) -> bool:
        return value is None or isinstance(value, str)

    def environment_problems(self, where: str, value: Any) -> Found:
        return [] if value is None else _import_problems(where, value)


DOTTED_PATHS = DottedPaths(
    must="a list of dotted paths",
    hint="Use e.g. ['myapp.jobs.timing_middleware'].",
    described="list of dotted paths of callables",
    environment_id="django_solidq.E021",
    each=lambda item: isinstance(item, str),
)
DOTTED_PATH = DottedPath(
    must="a dotted path or None",
    hint="Use e.g. 'myapp.jobs.report_error'.",
    described="dotted path of a callable, or None",
    environment_id="django_solidq.E021",
)


@dataclass(frozen=True)
class Options(Kind):
    """A dict of key -> options (``RECURRING``: each entry is checked by E013 to E019)."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, dict)

    def convert(self, value: Any) -> dict[str, Any]:
        return dict(value)


RECURRING_ENTRIES = Options(
    must="a dict of task key -> options",
    hint="See docs/recurring.md.",
    described="dict: key -> options (checked by E013 to E019)",
)


@dataclass(frozen=True)
class Alias(Kind):
    """A database alias; that ``DATABASES`` has it is its environment check."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str)

    def message(self, where: str, value: Any) -> str:
        return f"{where} is {value!r:.60}, which is not in DATABASES."

    def environment_problems(self, where: str, value: Any) -> Found:
        if value in settings.DATABASES:
            return []
        return [(self.message(where, value), self.hint_for(where))]


DATABASE_ALIAS = Alias(
    must="a database alias",
    hint="Use one of: {databases}.",
    described="a key of `DATABASES`",
    environment_id="django_solidq.E009",
)


@dataclass(frozen=True)
class Entries(Kind):
    """A list of dicts, each holding the keys of ``entry_type``'s table (WORKERS,
    DISPATCHERS): ``must`` and the check id are for the list and each entry's shape,
    ``unknown_id`` for a key not in the table; each value is checked by its own kind."""

    entry_type: type | None = None
    unknown_id: str = ""
    entry_hint: str = ""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, list | tuple)

    def message(self, where: str, value: Any) -> str:
        return f"{where} must be a list, got {type(value).__name__}."

    def entry_message(self, where: str, entry: Any) -> str:
        return f"{where} must be a dict, got {type(entry).__name__}."

    def show(self, default: Any) -> str:
        return "one, with the defaults below"
