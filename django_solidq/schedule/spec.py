"""The fields of a parsed cron (Fugit::Cron): its cron spelling and the days it fires on."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, tzinfo

from .zones import _zone_name

_WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_WEEKDS = tuple(d[:3] for d in _WEEKDAYS)
_MONTHS = ("-", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MAXDAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_FIELD_BOUNDS = {"sec": (0, 59), "min": (0, 59), "hou": (0, 23), "dom": (1, 31), "mon": (1, 12)}

_Hom = int | tuple[int, int] | None
_Weekday = tuple[int, _Hom]


@dataclass(frozen=True)
class _CronSpec:
    """The fields of a cron; ``None`` means any value (Fugit's ``nil``)."""

    seconds: tuple[int, ...] | None
    minutes: tuple[int, ...] | None
    hours: tuple[int, ...] | None
    monthdays: tuple[int, ...] | None
    months: tuple[int, ...] | None
    weekdays: tuple[_Weekday, ...] | None
    day_and: bool

    def to_cron(self, zone: tzinfo | None) -> str:
        """Fugit's ``to_cron_s``: seconds only when not just 0, then the zone if any."""

        parts = [] if self.seconds == (0,) else [_compress(self.seconds, 0, 59)]
        parts += [_compress(self.minutes, 0, 59), _compress(self.hours, 0, 23)]
        parts += [_compress(self.monthdays, 1, 31), _compress(self.months, 1, 12)]
        parts.append(self._weekdays_cron())
        if zone is not None:
            parts.append(_zone_name(zone))
        return " ".join(parts)

    def _weekdays_cron(self) -> str:
        if self.weekdays is None:
            return "*"
        out = []
        plain = tuple(day for day, hom in self.weekdays if hom is None)
        if plain:
            out.append(_compress(plain, 0, 6, steps=False))
        for day, hom in self.weekdays:
            if hom is None:
                continue
            if isinstance(hom, tuple):
                plus = f"+{hom[1]}" if hom[1] > 0 else (str(hom[1]) if hom[1] < 0 else "")
                out.append(f"{day}%{hom[0]}{plus}")
            else:
                out.append(f"{day}#{hom}")
        return ",".join(out) + ("&" if self.day_and else "")

    # -- day matching (Fugit::Cron#day_match?) --------------------------------------------------

    def month_days(self, year: int, month: int) -> tuple[int, ...]:
        """The days of ``month`` on which this cron fires."""
        if self.months is not None and month not in self.months:
            return ()
        first_wday, last = calendar.monthrange(year, month)
        return tuple(
            day
            for day in range(1, last + 1)
            if self._day_match(date(year, month, day), (first_wday + day) % 7, last)
        )

    def _day_match(self, day: date, wday: int, last: int) -> bool:
        if self.weekdays is not None and self.monthdays is not None:
            if self.day_and:
                return self._wday_match(day, wday, last) and self._mday_match(day, last)
            return self._wday_match(day, wday, last) or self._mday_match(day, last)
        return self._wday_match(day, wday, last) and self._mday_match(day, last)

    def _mday_match(self, day: date, last: int) -> bool:
        if self.monthdays is None:
            return True
        return any((last + 1 + d if d < 1 else d) == day.day for d in self.monthdays)

    def _wday_match(self, day: date, wday: int, last: int) -> bool:
        if self.weekdays is None:
            return True
        for wd, hom in self.weekdays:
            if wd != wday:
                continue
            if hom is None:
                return True
            if isinstance(hom, tuple):
                if _rweek(day) % hom[0] == hom[1] % hom[0]:
                    return True
            elif hom in ((day.day - 1) // 7 + 1, -((last - day.day) // 7 + 1)):
                return True
        return False


def _compress(values: tuple[int, ...] | None, low: int, high: int, *, steps: bool = True) -> str:
    """Spell a field for display: ``*``, ``*/5``, ``8-16``, ``1,15``..."""
    if values is None:
        return "*"
    step = values[1] - values[0] if len(values) >= 3 else 0
    if steps and step > 1 and values[0] >= 0 and values == tuple(range(values[0], high + 1, step)):
        if values[0] == low:
            return f"*/{step}"
        if values[0] < low + step:
            return f"{values[0]}/{step}"
    if (
        steps
        and step > 1
        and len(values) >= 5
        and values == tuple(range(values[0], values[-1] + 1, step))
    ):
        return f"{values[0]}-{values[-1]}/{step}"
    runs: list[list[int]] = []
    for value in values:
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    return ",".join(
        f"{run[0]}-{run[-1]}" if len(run) >= 3 else ",".join(map(str, run)) for run in runs
    )


_RWEEK_REF = date(2018, 12, 31)


def _rweek(day: date) -> int:
    """Whole weeks since Monday 2018-12-31 (et-orbi's ``rweek``, counted in calendar days)."""
    return (day - _RWEEK_REF).days // 7
