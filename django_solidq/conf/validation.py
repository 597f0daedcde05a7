"""Validation of a raw ``SOLIDQ`` value against the table, and the ``Config`` built from it.

Every problem has a stable check id (listed in docs/configuration.md), a message naming the
key and a hint saying the fix; system checks and ``runjobs --check`` report the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .kinds import Entries
from .table import SETTINGS, Config, Setting, settings_of


@dataclass(frozen=True)
class Problem:
    """One configuration error: a stable check id, a message naming the key and the fix, and
    the option it is about (``field``: a recurring entry's option, None for the whole)."""

    id: str
    msg: str
    hint: str = ""
    field: str | None = None


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
    problems = _unknown("SOLIDQ", raw, SETTINGS, "django_solidq.E002")
    return problems + _check_table("SOLIDQ", raw, SETTINGS) + _check_heartbeat(raw)


def build(raw: Any) -> Config:
    """The ``Config`` of a raw ``SOLIDQ`` value as far as it is valid: each value its kind
    refuses is replaced by its default (and entries that are not dicts are left out), so this
    never raises. ``get_config()`` builds only values ``validate`` accepts."""
    config: Config = _build(Config, SETTINGS, raw if isinstance(raw, dict) else {})
    return config


def _build(config_type: type, table: tuple[Setting, ...], given: dict[str, Any]) -> Any:
    values: dict[str, Any] = {}
    for row in table:
        value = given.get(row.name, row.default)
        if not row.kind.accepts(value):
            value = row.default
        if isinstance(row.kind, Entries) and row.kind.entry_type is not None:
            entry_type = row.kind.entry_type
            values[row.attribute] = tuple(
                _build(entry_type, settings_of(entry_type), entry)
                for entry in value
                if isinstance(entry, dict)
            )
        else:
            values[row.attribute] = row.kind.convert(value)
    return config_type(**values)


def _unknown(
    where: str, given: dict[str, Any], table: tuple[Setting, ...], check_id: str
) -> list[Problem]:
    allowed = sorted(row.name for row in table)
    return [
        Problem(
            check_id, f"Unknown key {key!r} in {where}.", f"Allowed keys are: {', '.join(allowed)}."
        )
        for key in given
        if key not in allowed
    ]


def _check_table(parent: str, given: dict[str, Any], table: tuple[Setting, ...]) -> list[Problem]:
    problems: list[Problem] = []
    for row in table:
        value = given.get(row.name, row.default)
        where = row.where(parent)
        kind = row.kind
        if not kind.accepts(value):
            problems.append(
                Problem(row.check_id, kind.message(where, value), kind.hint_for(row.name))
            )
            continue
        if isinstance(kind, Entries):
            problems += _check_entries(where, value, kind, row.check_id)
        if kind.environment_id is not None:
            problems += [
                Problem(kind.environment_id, message, hint)
                for message, hint in kind.environment_problems(where, value)
            ]
    return problems


def _check_entries(where: str, entries: Any, kind: Entries, check_id: str) -> list[Problem]:
    assert kind.entry_type is not None
    table = settings_of(kind.entry_type)
    problems: list[Problem] = []
    for index, entry in enumerate(entries):
        at = f"{where}[{index}]"
        if not isinstance(entry, dict):
            problems.append(Problem(check_id, kind.entry_message(at, entry), kind.entry_hint))
            continue
        problems += _unknown(at, entry, table, kind.unknown_id)
        problems += _check_table(at, entry, table)
    return problems


def _check_heartbeat(raw: dict[str, Any]) -> list[Problem]:
    """E020: a process must not be pruned between two heartbeats (bad values are E008)."""
    rows = {row.name: row for row in SETTINGS}
    interval_row = rows["PROCESS_HEARTBEAT_INTERVAL"]
    threshold_row = rows["PROCESS_ALIVE_THRESHOLD"]
    interval = raw.get(interval_row.name, interval_row.default)
    threshold = raw.get(threshold_row.name, threshold_row.default)
    if not (interval_row.kind.accepts(interval) and threshold_row.kind.accepts(threshold)):
        return []
    interval, threshold = interval_row.kind.convert(interval), threshold_row.kind.convert(threshold)
    if threshold >= 2 * interval:
        return []
    return [
        Problem(
            "django_solidq.E020",
            f"SOLIDQ['PROCESS_ALIVE_THRESHOLD'] ({threshold:g}s) is less than twice "
            f"SOLIDQ['PROCESS_HEARTBEAT_INTERVAL'] ({interval:g}s): live processes would be "
            "pruned between two heartbeats (or after one late one), and their jobs re-run.",
            "Set PROCESS_ALIVE_THRESHOLD to several heartbeat intervals (defaults: 60 and 5), "
            "or lower PROCESS_HEARTBEAT_INTERVAL.",
        )
    ]
