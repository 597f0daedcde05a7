"""Fugit 1.14 conformance of ``django_solidq.schedule``: every row of the shared tables.

The tables live in ``tests/data/fugit/`` (see its README for their origin and licence);
``SOLIDQ_CONFORMANCE_DIR`` overrides the location. Missing tables fail the run, they are
never skipped. A row may only differ from Fugit if it is listed in ``DEVIATIONS``.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from django_solidq.schedule import InvalidSchedule, Schedule, parse_schedule


def _conformance_dir() -> Path:
    override = os.environ.get("SOLIDQ_CONFORMANCE_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1] / "data" / "fugit"


CONFORMANCE_DIR = _conformance_dir()
EXPECTED_ROWS = {"fugit_nat.tsv": 164, "fugit_cron_next.tsv": 179, "fugit_cron_invalid.tsv": 38}

# Where we knowingly differ from Fugit: phrase -> (the cron we read it as, why).
DEVIATIONS: dict[str, tuple[str, str]] = {
    "every 1st of month at 8am": (
        "0 8 1 * *",
        "Fugit requires 'of the month' and reads this as a one-off time, so Solid Queue "
        "rejects it; the project's seed uses it, so we accept it as the 1st of every month "
        "at 08:00.",
    ),
}

# Instants from which fire times are compared (leap day, both DST changes, year ends).
REFERENCE_INSTANTS = [
    datetime.fromisoformat(s)
    for s in (
        "2024-02-27T13:37:11+00:00",
        "2025-03-08T23:59:59+00:00",
        "2025-10-31T23:30:00+00:00",
        "2026-06-14T06:00:00+00:00",
        "2026-12-30T12:00:00+00:00",
    )
]
NAT_DEFAULT_ZONE = "America/New_York"


def _rows(name: str, header: bool) -> list[object]:
    """The rows of one table as pytest params, or one failing param if it is missing."""
    path = CONFORMANCE_DIR / name
    if not path.is_file():
        return [pytest.param(None, id=f"MISSING-{name}")]
    lines = path.read_text(encoding="utf-8").split("\n")
    params: list[object] = []
    for number, line in enumerate(lines[1:] if header else lines, start=2 if header else 1):
        if line.strip():
            cells = line.split("\t")
            params.append(pytest.param(cells, id=f"{name.split('.')[0]}:{number}:{cells[0]}"))
    return params


def _require(row: list[str] | None) -> list[str]:
    if row is None:
        pytest.fail(
            f"conformance tables not found in {CONFORMANCE_DIR}: they ship with the "
            "repository in tests/data/fugit/ (restore them from git) or set SOLIDQ_CONFORMANCE_DIR"
        )
    return row


def fire_times(schedule: Schedule, count: int = 20) -> list[str]:
    """The next ``count`` fire times after each reference instant, as ISO strings in UTC."""
    return [
        t.isoformat() for start in REFERENCE_INSTANTS for t in schedule.next_times(start, count)
    ]


def assert_same_schedule(ours: Schedule, theirs: Schedule) -> None:
    assert ours.cron == theirs.cron or ours == theirs, (ours.cron, theirs.cron)
    assert fire_times(ours) == fire_times(theirs)


@pytest.mark.parametrize("name", sorted(EXPECTED_ROWS))
def test_tables_are_complete(name: str) -> None:
    path = CONFORMANCE_DIR / name
    assert path.is_file(), f"missing conformance table {path} (see SOLIDQ_CONFORMANCE_DIR)"
    assert len(_rows(name, header=name != "fugit_cron_invalid.tsv")) == EXPECTED_ROWS[name]


@pytest.mark.parametrize("row", _rows("fugit_nat.tsv", header=True))
def test_nat_phrase(row: list[str] | None) -> None:
    phrase, expected, multi = _require(row)
    if phrase in DEVIATIONS:
        expected, multi = DEVIATIONS[phrase][0], ""
    if expected == "NIL" or multi == "MULTI":
        with pytest.raises(InvalidSchedule) as raised:
            parse_schedule(phrase, default_timezone=NAT_DEFAULT_ZONE)
        assert repr(phrase) in str(raised.value)
        if multi == "MULTI":
            assert "several cron lines" in str(raised.value)
        return
    ours = parse_schedule(phrase, default_timezone=NAT_DEFAULT_ZONE)
    theirs = parse_schedule(expected, default_timezone=NAT_DEFAULT_ZONE)
    assert_same_schedule(ours, theirs)


@pytest.mark.parametrize("row", _rows("fugit_cron_next.tsv", header=True))
def test_cron_next_time(row: list[str] | None) -> None:
    cron, start, expected, zone, _source = _require(row)
    tz = ZoneInfo(zone)
    after = datetime.fromisoformat(start).astimezone(tz)
    got = parse_schedule(cron, default_timezone=tz).next_time(after)
    want = datetime.fromisoformat(expected)
    # Compare instants by timestamp: PEP 495 makes == false for times in a fold across zones.
    assert (got.isoformat(), got.timestamp()) == (want.isoformat(), want.timestamp())
    assert got.tzinfo is tz


@pytest.mark.parametrize("row", _rows("fugit_cron_invalid.tsv", header=False))
def test_cron_invalid(row: list[str] | None) -> None:
    (cron,) = _require(row)
    with pytest.raises(InvalidSchedule) as raised:
        parse_schedule(cron, default_timezone="UTC")
    assert repr(cron) in str(raised.value)


@pytest.mark.parametrize("phrase", sorted(DEVIATIONS))
def test_deviation(phrase: str) -> None:
    cron, reason = DEVIATIONS[phrase]
    assert reason
    assert_same_schedule(
        parse_schedule(phrase, default_timezone=NAT_DEFAULT_ZONE),
        parse_schedule(cron, default_timezone=NAT_DEFAULT_ZONE),
    )


def test_comparison_can_fail() -> None:
    """The helpers above do tell different schedules apart."""
    with pytest.raises(AssertionError):
        assert_same_schedule(parse_schedule("0 8 * * *"), parse_schedule("0 9 * * *"))
    with pytest.raises(AssertionError):
        assert_same_schedule(
            parse_schedule("0 8 * * *", default_timezone="UTC"),
            parse_schedule("0 8 * * *", default_timezone="Europe/Paris"),
        )
