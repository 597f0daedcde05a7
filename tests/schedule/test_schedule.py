"""Unit tests of ``django_solidq.schedule`` beyond the Fugit conformance tables."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from django_solidq.schedule import InvalidSchedule, Schedule, parse_schedule

NEW_YORK = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")


def local(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def fires(schedule: Schedule, after: datetime, count: int) -> list[str]:
    return [t.isoformat() for t in schedule.next_times(after, count)]


# -- aware in, aware out, strictly after ----------------------------------------------------------


def test_next_time_keeps_the_tzinfo_of_its_argument() -> None:
    schedule = parse_schedule("0 9 * * *", default_timezone="Europe/Paris")
    after = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
    assert schedule.next_time(after) == datetime(2025, 1, 11, 8, 0, tzinfo=UTC)
    assert schedule.next_time(after).tzinfo is UTC
    in_new_york = schedule.next_time(after.astimezone(NEW_YORK))
    assert in_new_york.tzinfo is NEW_YORK
    assert in_new_york.isoformat() == "2025-01-11T03:00:00-05:00"
    fixed = timezone(timedelta(hours=5, minutes=30))
    assert schedule.next_time(after.astimezone(fixed)).tzinfo is fixed


def test_next_time_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_schedule("* * * * *").next_time(datetime(2025, 1, 1))


def test_next_time_is_strictly_after() -> None:
    schedule = parse_schedule("*/15 * * * *", default_timezone="UTC")
    on_time = datetime(2025, 1, 1, 10, 15, tzinfo=UTC)
    assert schedule.next_time(on_time) == datetime(2025, 1, 1, 10, 30, tzinfo=UTC)
    just_after = on_time + timedelta(microseconds=1)
    assert schedule.next_time(just_after) == datetime(2025, 1, 1, 10, 30, tzinfo=UTC)
    just_before = on_time - timedelta(microseconds=1)
    assert schedule.next_time(just_before) == on_time


def test_seconds_first_six_field_crons() -> None:
    schedule = parse_schedule("*/20 * * * * *", default_timezone="UTC")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    assert fires(schedule, start, 3) == [
        "2025-01-01T00:00:20+00:00",
        "2025-01-01T00:00:40+00:00",
        "2025-01-01T00:01:00+00:00",
    ]


# -- time zones --------------------------------------------------------------------------------


def test_default_zone_is_django_time_zone(settings: pytest.FixtureRequest) -> None:
    settings.TIME_ZONE = "Asia/Tokyo"  # type: ignore[attr-defined]
    schedule = parse_schedule("0 9 * * *")
    assert schedule.timezone == ZoneInfo("Asia/Tokyo")
    assert schedule.cron == "0 9 * * *"  # no zone suffix: the zone was not named
    after = datetime(2025, 5, 31, 12, 0, tzinfo=UTC)
    assert schedule.next_time(after) == datetime(2025, 6, 1, 0, 0, tzinfo=UTC)


def test_named_zone_wins_over_time_zone(settings: pytest.FixtureRequest) -> None:
    settings.TIME_ZONE = "Asia/Tokyo"  # type: ignore[attr-defined]
    schedule = parse_schedule("every day at 9am in America/New_York")
    assert schedule.timezone == NEW_YORK
    assert schedule.cron == "0 9 * * * America/New_York"
    after = datetime(2025, 6, 1, tzinfo=UTC)
    assert schedule.next_time(after) == datetime(2025, 6, 1, 13, 0, tzinfo=UTC)


def test_default_timezone_argument() -> None:
    assert parse_schedule("0 9 * * *", default_timezone="Europe/Paris").timezone == PARIS
    fixed = timezone(timedelta(hours=2))
    assert parse_schedule("0 9 * * *", default_timezone=fixed).timezone is fixed
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_schedule("0 9 * * *", default_timezone="Mars/Olympus")


def test_default_zone_is_utc_without_django_settings() -> None:
    code = (
        "from django_solidq.schedule import parse_schedule;"
        "print(parse_schedule('0 9 * * *').timezone)"
    )
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[2]), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "UTC"


@pytest.mark.parametrize(
    ("text", "cron", "offset"),
    [
        ("0 9 * * * UTC", "0 9 * * * UTC", timedelta(0)),
        ("0 9 * * * +09:00", "0 9 * * * +09:00", timedelta(hours=9)),
        ("0 9 * * * -0530", "0 9 * * * -0530", timedelta(hours=-5, minutes=-30)),
        ("@daily Asia/Kolkata", "0 0 * * * Asia/Kolkata", timedelta(hours=5, minutes=30)),
        ("every day at 6pm and 8pm UTC", "0 18,20 * * * UTC", timedelta(0)),
    ],
)
def test_trailing_zones(text: str, cron: str, offset: timedelta) -> None:
    schedule = parse_schedule(text, default_timezone="America/New_York")
    assert schedule.cron == cron
    assert schedule.timezone.utcoffset(datetime(2025, 1, 1)) == offset


# -- DST -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day_before", "expected"),
    [
        # 02:30 does not exist on the spring-forward day: that day does not fire.
        (NEW_YORK, (2025, 3, 8), ["2025-03-08T02:30:00-05:00", "2025-03-10T02:30:00-04:00"]),
        (PARIS, (2025, 3, 29), ["2025-03-29T02:30:00+01:00", "2025-03-31T02:30:00+02:00"]),
    ],
)
def test_spring_forward_skips_the_missing_time(
    zone: ZoneInfo, day_before: tuple[int, int, int], expected: list[str]
) -> None:
    schedule = parse_schedule("30 2 * * *", default_timezone=zone)
    assert fires(schedule, local(zone, *day_before), 2) == expected


@pytest.mark.parametrize(
    ("cron", "zone", "day_before", "expected"),
    [
        # The repeated 02:30 (Paris) / 01:30 (New York) fires once, at its first occurrence.
        (
            "30 2 * * *",
            PARIS,
            (2025, 10, 25),
            ["2025-10-25T02:30:00+02:00", "2025-10-26T02:30:00+02:00", "2025-10-27T02:30:00+01:00"],
        ),
        (
            "30 1 * * *",
            NEW_YORK,
            (2025, 11, 1),
            ["2025-11-01T01:30:00-04:00", "2025-11-02T01:30:00-04:00", "2025-11-03T01:30:00-05:00"],
        ),
        # 02:30 is not repeated in New York (01:00-02:00 is): nothing special.
        (
            "30 2 * * *",
            NEW_YORK,
            (2025, 11, 1),
            ["2025-11-01T02:30:00-04:00", "2025-11-02T02:30:00-05:00", "2025-11-03T02:30:00-05:00"],
        ),
    ],
)
def test_fall_back_fires_once(
    cron: str, zone: ZoneInfo, day_before: tuple[int, int, int], expected: list[str]
) -> None:
    schedule = parse_schedule(cron, default_timezone=zone)
    assert fires(schedule, local(zone, *day_before), 3) == expected


def test_fall_back_fires_once_from_the_first_occurrence_in_any_zone() -> None:
    schedule = parse_schedule("30 1 * * *", default_timezone=NEW_YORK)
    first = local(NEW_YORK, 2025, 11, 2, 1, 30)
    expected = local(NEW_YORK, 2025, 11, 3, 1, 30).timestamp()
    for after in (first, first.astimezone(UTC), first.astimezone(PARIS)):
        assert schedule.next_time(after).timestamp() == expected


def test_frequent_schedules_keep_firing_through_the_repeated_hour() -> None:
    """As in Fugit, only an immediate repeat of the same wall time is skipped."""
    schedule = parse_schedule("*/30 * * * *", default_timezone=NEW_YORK)
    assert fires(schedule, local(NEW_YORK, 2025, 11, 2, 0, 45), 5) == [
        "2025-11-02T01:00:00-04:00",
        "2025-11-02T01:30:00-04:00",
        "2025-11-02T01:00:00-05:00",
        "2025-11-02T01:30:00-05:00",
        "2025-11-02T02:00:00-05:00",
    ]


def test_hourly_skips_only_the_missing_hour() -> None:
    schedule = parse_schedule("0 * * * *", default_timezone=NEW_YORK)
    assert fires(schedule, local(NEW_YORK, 2025, 3, 9, 0, 30), 3) == [
        "2025-03-09T01:00:00-05:00",
        "2025-03-09T03:00:00-04:00",
        "2025-03-09T04:00:00-04:00",
    ]


# Three places where Fugit 1.14 has a DST bug that we do not reproduce (docs/recurring.md).


def test_day_whose_midnight_is_skipped_still_fires() -> None:
    """Fugit skips all of Sunday 2024-09-08 in Santiago (00:00 does not exist)."""
    santiago = ZoneInfo("America/Santiago")
    schedule = parse_schedule("0 9 * * sun", default_timezone=santiago)
    after = local(santiago, 2024, 9, 6, 12)
    assert schedule.next_time(after).isoformat() == "2024-09-08T09:00:00-03:00"


def test_last_day_of_month_with_spring_forward() -> None:
    """Fugit thinks March 2019 has 30 days in Berlin (DST began on the 31st)."""
    berlin = ZoneInfo("Europe/Berlin")
    schedule = parse_schedule("0 12 L 3 *", default_timezone=berlin)
    after = local(berlin, 2019, 3, 1)
    assert schedule.next_time(after).isoformat() == "2019-03-31T12:00:00+02:00"


def test_every_other_monday_across_dst() -> None:
    """Fugit's week number of a summer Monday is one less in Berlin, breaking ``%2``."""
    berlin = ZoneInfo("Europe/Berlin")
    schedule = parse_schedule("0 9 * * mon%2", default_timezone=berlin)
    got = [t.date().isoformat() for t in schedule.next_times(local(berlin, 2019, 3, 1), 4)]
    assert got == ["2019-03-11", "2019-03-25", "2019-04-08", "2019-04-22"]


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("every blah", "expected a cron line like '0 8 * * mon-fri'"),
        ("", "expected a cron line"),
        ("0 8 * *", "expected a cron line"),
        ("* * 30 2 *", "never occur"),
        ("0 0 * * * America/SaoPaulo", "unknown time zone 'America/SaoPaulo'"),
        ("*/0 * * * *", "step"),
        ("every day at 18:15 and 20:45", "several cron lines (15 18 * * *; 45 20 * * *)"),
        ("5", "duration"),
        ("every 2 weeks", "expected a cron line"),
        ("0 0 * * mon%0", "modulo"),
    ],
)
def test_invalid_schedules_quote_the_text(text: str, message: str) -> None:
    with pytest.raises(InvalidSchedule) as raised:
        parse_schedule(text)
    assert isinstance(raised.value, ValueError)
    assert str(raised.value).startswith(f"Invalid schedule {text!r}: ")
    assert message in str(raised.value)
    assert raised.value.text == text


def test_non_strings_are_invalid() -> None:
    with pytest.raises(InvalidSchedule, match="must be a string"):
        parse_schedule(5)  # type: ignore[arg-type]


def test_exact_error_message() -> None:
    with pytest.raises(InvalidSchedule) as raised:
        parse_schedule("every blah")
    assert str(raised.value) == (
        "Invalid schedule 'every blah': expected a cron line like '0 8 * * mon-fri' "
        "or a phrase like 'every day at 2am'"
    )


def test_schedule_that_never_fires_gives_up_quickly() -> None:
    schedule = parse_schedule("0 0 1 * mon#5&", default_timezone="UTC")  # the 1st, 5th Monday
    started = time.perf_counter()
    with pytest.raises(InvalidSchedule, match="does not fire within 100 years"):
        schedule.next_time(datetime(2025, 1, 1, tzinfo=UTC))
    assert time.perf_counter() - started < 2


def test_rare_schedules_are_found() -> None:
    schedule = parse_schedule("0 0 29 2 mon&", default_timezone="UTC")  # Feb 29 on a Monday
    assert schedule.next_time(datetime(2025, 1, 1, tzinfo=UTC)).date().isoformat() == "2044-02-29"


# -- the seed's phrases and .cron ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cron"),
    [
        ("every 5 minutes", "*/5 * * * *"),
        ("every hour", "0 * * * *"),
        ("every day at 9am", "0 9 * * *"),
        ("every monday at 9am", "0 9 * * 1"),
        ("every 1st of month at 8am", "0 8 1 * *"),  # Fugit rejects it: a documented deviation
        ("every day at 9am, 3pm, 9pm", "0 9,15,21 * * *"),
        ("every day at 9am in America/New_York", "0 9 * * * America/New_York"),
        ("every weekday at five pm", "0 17 * * 1-5"),
        ("every 15 minutes starting at minute 1", "1/15 * * * *"),
        ("every weekday 8am to 5pm", "0 8-17 * * 1-5"),
        ("at noon", "0 12 * * *"),
        ("0 8 * * mon-fri", "0 8 * * 1-5"),
        ("@weekly", "0 0 * * 0"),
        ("0 0 L * *", "0 0 -1 * *"),
        ("0 9 * * mon#2,tue", "0 9 * * 2,1#2"),
        ("0 23-4 * * fri-sun", "0 0-4,23 * * 0,5,6"),
        ("0 0 */2& * 1-5", "0 0 */2 * 1-5&"),
        ("0 10 * * sun%2+1", "0 10 * * 0%2+1"),
    ],
)
def test_phrases_and_crons(text: str, cron: str) -> None:
    schedule = parse_schedule(text, default_timezone="UTC")
    assert schedule.cron == cron
    assert schedule.text == text
    assert str(schedule) == text


ROUND_TRIPS = [
    "every day at 2am",
    "every 15s",
    "every weekday 8am to 5pm on minute 10 and 30",
    "every month on the 1st and last at 12:00 pm",
    "every Fri-Sun at 18:00 UTC",
    "30 18 * * 2#5 Europe/Paris",
    "0 0 -4,-3 * *",
    "0 0 -7-L * *",
    "59 6 1-7& * 2",
    "12 0 * * wed%4,wed%4+1",
    "15,30 5 0 * * *",
    "0 8-19/4 * * *",
    "17/2 35-50 13-0 23 * 1#2",
    "~ 3 * * *",
    "0 9 * * * +09:00",
]


@pytest.mark.parametrize("text", ROUND_TRIPS)
def test_cron_round_trips(text: str) -> None:
    schedule = parse_schedule(text, default_timezone=NEW_YORK)
    again = parse_schedule(schedule.cron, default_timezone=NEW_YORK)
    assert again == schedule
    assert again.cron == schedule.cron
    start = datetime(2025, 3, 1, tzinfo=UTC)
    assert fires(again, start, 30) == fires(schedule, start, 30)


def test_random_values_are_stable_per_text() -> None:
    assert parse_schedule("0~59 * * * *").cron == parse_schedule("0~59 * * * *").cron
    minute = int(parse_schedule("0~59 * * * *").cron.split()[0])
    assert 0 <= minute <= 59


# -- the Schedule object -------------------------------------------------------------------------


def test_schedules_are_immutable_values() -> None:
    a = parse_schedule("every day at 9am", default_timezone="UTC")
    b = parse_schedule("0 9 * * *", default_timezone="UTC")
    c = parse_schedule("0 9 * * *", default_timezone="Europe/Paris")
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert len({a, b, c}) == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.text = "other"  # type: ignore[misc]
    assert "every day at 9am" in repr(a) and "0 9 * * *" in repr(a)


def test_next_time_is_fast() -> None:
    schedule = parse_schedule("every 5 minutes", default_timezone=NEW_YORK)
    after = datetime(2025, 1, 1, tzinfo=UTC)
    schedule.next_time(after)
    started = time.perf_counter()
    for _ in range(1000):
        after = schedule.next_time(after)
    assert (time.perf_counter() - started) / 1000 < 0.001


def test_docs_examples_run() -> None:
    """The ``>>>`` examples of the "Schedule syntax" section of docs/recurring.md pass."""
    import doctest

    text = (Path(__file__).resolve().parents[2] / "docs" / "recurring.md").read_text()
    section = text.split("## Schedule syntax", 1)[1].split("\n## ", 1)[0]
    parser = doctest.DocTestParser()
    test = parser.get_doctest(section, {}, "recurring.md", "docs/recurring.md", 0)
    assert test.examples, "no examples found"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0
