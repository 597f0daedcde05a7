"""Next fire time: the wall-clock search, and the zone's UTC-offset changes (DST)."""

from __future__ import annotations

import bisect
import functools
import re
import threading
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .errors import InvalidSchedule
from .spec import _CronSpec

if TYPE_CHECKING:
    from .model import Schedule


SEARCH_YEARS = 100
"""How far ahead :meth:`Schedule.next_time` looks before giving up."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_SECOND = timedelta(seconds=1)
_ALL_SECONDS = tuple(range(60))
_ALL_HOURS = tuple(range(24))


def _epoch(moment: datetime) -> int:
    return (moment - _EPOCH) // _SECOND


def _offset(zone: tzinfo, instant: int) -> int:
    offset = datetime.fromtimestamp(instant, zone).utcoffset()
    return 0 if offset is None else offset // _SECOND


def _next_instant(schedule: Schedule, after: int) -> int:
    """Fugit::Cron#next_time, walking wall-clock time segment by segment.

    Between two UTC-offset transitions wall time runs with real time, so the first matching
    wall time of the segment is the answer unless a transition comes first; then the search
    goes on from the transition (forward past a gap, back over a repeated hour).
    """
    zone = schedule.timezone
    from_offset = _offset(zone, after)
    from_wall = after + from_offset
    cursor = after + 1
    limit = _wall(after + from_offset).year + SEARCH_YEARS
    while True:
        offset = _offset(zone, cursor)
        wall = _next_wall(schedule, _wall(cursor + offset), limit)
        if wall is None:
            raise InvalidSchedule(
                schedule.text, f"it does not fire within {SEARCH_YEARS} years after that time"
            )
        candidate = wall - offset
        transition = _first_transition(zone, cursor, candidate)
        if transition is not None:
            cursor = transition
        elif wall == from_wall and offset != from_offset:
            # The wall time just fired, repeated after a fall-back: skip it (Fugit gh-6).
            from_wall, from_offset, cursor = wall, offset, candidate + 1
        else:
            return candidate


def _wall(seconds: int) -> datetime:
    return _EPOCH_NAIVE + timedelta(seconds=seconds)


def _next_wall(schedule: Schedule, start: datetime, limit_year: int) -> int | None:
    """The first wall-clock second at or after ``start`` that matches, as naive epoch seconds."""
    spec = schedule._spec
    year, month, day = start.year, start.month, start.day
    clock: tuple[int, int, int] = (start.hour, start.minute, start.second)
    while year <= limit_year:
        days = _month_days(spec, year, month)
        i = bisect.bisect_left(days, day)
        if i == len(days):
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            day, clock = 1, (0, 0, 0)
            continue
        if days[i] != day:
            day, clock = days[i], (0, 0, 0)
        found = _next_clock(spec, *clock)
        if found is None:
            day, clock = day + 1, (0, 0, 0)
            continue
        return (datetime(year, month, day, *found) - _EPOCH_NAIVE) // _SECOND
    return None


@functools.lru_cache(maxsize=4096)
def _month_days(spec: _CronSpec, year: int, month: int) -> tuple[int, ...]:
    return spec.month_days(year, month)


def _next_clock(
    spec: _CronSpec, hour: int, minute: int, second: int
) -> tuple[int, int, int] | None:
    """The first (hour, minute, second) at or after the given one that matches, in a day."""
    hours = spec.hours or _ALL_HOURS
    minutes = spec.minutes or _ALL_SECONDS
    seconds = spec.seconds or _ALL_SECONDS
    while True:
        i = bisect.bisect_left(hours, hour)
        if i == len(hours):
            return None
        if hours[i] != hour:
            hour, minute, second = hours[i], 0, 0
        j = bisect.bisect_left(minutes, minute)
        if j == len(minutes):
            hour, minute, second = hour + 1, 0, 0
            continue
        if minutes[j] != minute:
            minute, second = minutes[j], 0
        k = bisect.bisect_left(seconds, second)
        if k == len(seconds):
            minute, second = minute + 1, 0
            continue
        return hour, minute, seconds[k]


_TRANSITIONS: dict[tuple[tzinfo, int], tuple[int, ...]] = {}
_TRANSITIONS_LOCK = threading.Lock()
_PROBE = 86400  # no zone changes its offset twice within a day
_FIXED_ZONE = re.compile(r"(Etc/)?(UTC|UCT|GMT[-+]?\d*|Universal|Zulu|Greenwich)", re.ASCII)


def _first_transition(zone: tzinfo, after: int, until: int) -> int | None:
    """The first instant in (after, until] where ``zone``'s UTC offset changes."""
    if until <= after or isinstance(zone, timezone):
        return None
    if isinstance(zone, ZoneInfo) and _FIXED_ZONE.fullmatch(zone.key):
        return None
    for year in range(_wall(after).year, _wall(until).year + 1):
        transitions = _year_transitions(zone, year)
        i = bisect.bisect_right(transitions, after)
        if i < len(transitions):
            return transitions[i] if transitions[i] <= until else None
    return None


def _year_transitions(zone: tzinfo, year: int) -> tuple[int, ...]:
    """Instants of the UTC year ``year`` where the offset differs from the second before."""
    key = (zone, year)
    found = _TRANSITIONS.get(key)
    if found is None:
        start = _epoch(datetime(year, 1, 1, tzinfo=UTC))
        end = _epoch(datetime(year + 1, 1, 1, tzinfo=UTC))
        changes = []
        low, low_offset = start - 1, _offset(zone, start - 1)
        while low < end - 1:
            high = min(low + _PROBE, end - 1)
            high_offset = _offset(zone, high)
            if high_offset != low_offset:
                changes.append(_bisect_transition(zone, low, high, low_offset))
            low, low_offset = high, high_offset
        found = tuple(changes)
        with _TRANSITIONS_LOCK:
            _TRANSITIONS[key] = found
    return found


def _bisect_transition(zone: tzinfo, low: int, high: int, low_offset: int) -> int:
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(zone, middle) == low_offset:
            low = middle
        else:
            high = middle
    return high
