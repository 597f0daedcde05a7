"""A parsed cron tree -> a :class:`_CronSpec` (Fugit::Cron#init and friends)."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from datetime import tzinfo

from .errors import _Reject
from .peg import _RUBY_BLANK, _Node
from .spec import _FIELD_BOUNDS, _MAXDAYS, _MONTHS, _WEEKDS, _CronSpec, _Hom, _Weekday
from .zones import _get_tzone

# An element of a cron field: (start, end, separator, slash, hash, modulo).
_Elt = tuple[int | None, int | None, str | None, int | None, int | None, tuple[int, int] | None]


class _CronBuilder:
    """Turns a parsed cron tree into a :class:`_CronSpec` (Fugit::Cron#init and friends)."""

    def __init__(self, seed: str) -> None:
        self._random = random.Random(seed)

    def build(self, tree: _Node, day_and: bool) -> tuple[_CronSpec, tzinfo | None]:
        top = tree.sublookup()
        assert top is not None
        lists = {node.name or "": node for node in top.subgather()}
        zone_name, zone = None, None
        if "tz" in lists:
            zone_name = lists["tz"].string.strip(_RUBY_BLANK)
            zone = _get_tzone(zone_name)
            if zone is None:
                raise _Reject(f"unknown time zone {zone_name!r}")
        entries = {k: [self._elt(k, e) for e in n.subgather("elt")] for k, n in lists.items()}
        seconds = self._determine("sec", entries.get("sec", [(0, None, None, None, None, None)]))
        months = self._determine("mon", entries["mon"])
        monthdays = self._determine("dom", entries["dom"])
        months, monthdays = _compact_month_days(months, monthdays)
        weekdays = self._weekdays(entries["dow"])
        spec = _CronSpec(
            seconds=seconds,
            minutes=self._determine("min", entries["min"]),
            hours=self._determine("hou", entries["hou"]),
            monthdays=monthdays,
            months=months,
            weekdays=weekdays,
            day_and=day_and and weekdays is not None and monthdays is not None,
        )
        return spec, zone

    @staticmethod
    def _bound(kind: str, node: _Node) -> int:
        text = node.string.lower()
        if kind == "mon" and text in _MONTHS:
            return _MONTHS.index(text)
        if kind == "dow" and text in _WEEKDS:
            return _WEEKDS.index(text)
        if kind == "dom" and text.startswith("l"):
            return -1
        return int(text)

    def _elt(self, kind: str, node: _Node) -> _Elt:
        start = end = sep = slash = hash_ = None
        mod: tuple[int, int] | None = None
        for child in node.subgather():
            if child.name == "slash":
                slash = int(child.string[1:])
            elif child.name == "hash":
                value = child.string[1:]
                hash_ = -1 if value[:1].upper() == "L" else int(value)
            elif child.name == "mod":
                numbers = [int(n) for n in re.split(r"[%+]", child.string) if n]
                mod = (numbers[0], numbers[1] if len(numbers) > 1 else 0)
            elif child.name in ("hyphen", "tilde"):
                sep = child.name
            elif sep is not None:
                end = self._bound(kind, child) if end is None else end
            else:
                start = self._bound(kind, child)
        return (start, end, sep, slash, hash_, mod)

    def _determine(self, kind: str, elts: list[_Elt]) -> tuple[int, ...] | None:
        low, high = _FIELD_BOUNDS[kind]
        values: list[int] = []
        wildcard = False
        for elt in elts:
            expanded = self._expand(low, high, elt)
            if expanded is None:
                wildcard = True
                continue
            for value in expanded:
                if value is None:
                    wildcard = True
                else:
                    values.append(0 if kind == "hou" and value == 24 else value)
        return None if wildcard else tuple(sorted(set(values)))

    def _expand(self, low: int, high: int, elt: _Elt) -> list[int | None] | None:
        start, end, sep, slash, _, _ = elt
        if slash is not None and slash < 1:
            raise _Reject("a step (/n) must be at least 1")
        if sep == "tilde":
            start = self._pick(low, high, start, end, slash)
            end = end if slash is not None else None
        if slash is not None and end is None:
            end = high
        if start is None and end is None and slash is None:
            return None
        if start is not None and end is None:
            return [start]
        step = 1 if slash is None else slash
        start = low if start is None else start
        if end is None or (end < 0 < start):
            end = high
        return _range(low, high, start, end, step)

    def _pick(
        self, low: int, high: int, start: int | None, end: int | None, step: int | None
    ) -> int:
        """``a~b``: a value picked at random, seeded with the schedule text (see docs)."""
        start = low if start is None else start
        end = high if end is None else end
        n = end - start + 1
        if n <= 0:
            n = high - low + 1 + n
        if step is not None and step < n:
            n = step
        value = start + self._random.randrange(n)
        return value + low - high - 1 if value > high else value

    def _weekdays(self, elts: list[_Elt]) -> tuple[_Weekday, ...] | None:
        days: list[_Weekday] = []
        for start, end, sep, slash, hash_, mod in elts:
            if sep == "tilde":
                start = self._pick(0, 6, start, end, slash)
                end = end if slash is not None else None
            hom: _Hom = hash_ if hash_ is not None else mod
            if hom is not None and start is not None:
                if isinstance(hom, tuple) and hom[0] == 0:
                    raise _Reject("a week modulo (%n) must be at least 1")
                days.append((start, hom))
            elif slash is not None:
                first = 0 if start is None else start
                last = (start if start is not None else 6) if end is None else end
                last = last + 7 if first > last else last
                days += [
                    (i - 7 if i > 6 else i, None) for i in range(first, last + 1, max(slash, 1))
                ]
            elif start is not None:
                last = start if end is None else (end + 7 if start > end else end)
                days += [(i - 7 if i > 6 else i, None) for i in range(start, last + 1)]
        try:
            unique = sorted({(0 if d == 7 else d, h) for d, h in days}, key=_weekday_sort_key)
        except TypeError:  # Ruby cannot sort [1, 2] against [1, [2, 0]] either
            raise _Reject("a weekday cannot have both #n and %n") from None
        return tuple(unique) or None


def _weekday_sort_key(entry: _Weekday) -> tuple[int, int, object]:
    day, hom = entry
    if hom is None:
        return (day, 0, 0)
    return (day, 1, hom)


def _range(low: int, high: int, start: int, end: int, step: int) -> list[int | None]:
    """Fugit::Cron#range: values from start to end (wrapping), every ``step``-th one."""
    if start == low and end == high and step == 1:
        return [None]
    if (start < 0 < end) or (end < 0 < start):
        raise _Reject("a range cannot mix negative and positive days")
    span_low, span_high = (-high, -1) if start < 0 else (low, high)
    values, cur = [], start
    while True:
        values.append(cur)
        if cur == end:
            break
        cur += 1
        if cur > span_high:
            cur = span_low
            if end > span_high:
                end = end - span_high - 1
        if len(values) > 2 * high:
            raise _Reject("a range that never ends")
    picked = values[::step]
    return list(dict.fromkeys(picked))


def _compact_month_days(
    months: tuple[int, ...] | None, monthdays: tuple[int, ...] | None
) -> tuple[tuple[int, ...] | None, tuple[int, ...] | None]:
    """Drop months no listed day fits in, and days no listed month has (Feb 30...)."""
    if months is None or monthdays is None:
        return months, monthdays
    pairs = [(m, d) for m in months for d in monthdays if d <= _MAXDAYS[m]]
    if not pairs:
        raise _Reject(f"day(s) {_join(monthdays)} never occur in month(s) {_join(months)}")
    kept_months = tuple(dict.fromkeys(m for m, _ in pairs))
    kept_days = tuple(dict.fromkeys(d for _, d in pairs))
    return kept_months, kept_days


def _join(values: Sequence[object]) -> str:
    return ",".join(str(v) for v in values)
