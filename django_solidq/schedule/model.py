"""The :class:`Schedule` a schedule string parses to."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from .spec import _CronSpec
from .times import _epoch, _next_instant
from .zones import _zone_key


@dataclass(frozen=True, eq=False)
class Schedule:
    """An immutable parsed schedule.

    ``text`` is the original string, ``cron`` an equivalent cron line (with a trailing zone
    when the schedule names one) and ``timezone`` the zone its wall-clock times are in.
    Two schedules are equal when they fire at the same times (same fields and zone).
    """

    text: str
    cron: str
    timezone: tzinfo
    _spec: _CronSpec = field(repr=False)

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schedule):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[object, ...]:
        return (self._spec, _zone_key(self.timezone))

    def next_time(self, after: datetime) -> datetime:
        """Return the first fire time strictly after ``after``.

        ``after`` must be aware; the result is aware, in ``after``'s tzinfo, on a whole second.
        A wall-clock time skipped by a spring-forward change does not fire; a time repeated
        by a fall-back change fires once, at its first occurrence (see docs/recurring.md).
        Raises :class:`InvalidSchedule` if nothing fires within ``SEARCH_YEARS`` years.
        """
        if after.tzinfo is None or after.utcoffset() is None:
            raise ValueError(f"next_time() needs an aware datetime, got {after!r}")
        found = _next_instant(self, _epoch(after))
        return datetime.fromtimestamp(found, after.tzinfo)

    def next_times(self, after: datetime, count: int) -> Iterator[datetime]:
        """Yield the next ``count`` fire times after ``after`` (see :meth:`next_time`)."""
        for _ in range(count):
            after = self.next_time(after)
            yield after
