"""Recurring-task schedules: cron lines and Fugit-style phrases.

Solid Queue parses a recurring task's ``schedule:`` with the Ruby gem Fugit
(``Fugit.parse(s, multi: :fail)``, accepted only when the result is a cron). This module
accepts the same strings and computes the same fire times:

* cron lines with 5 fields, or 6 with the seconds first, with Fugit's extensions
  (``L``/``last``/negative days of month, ``#n``/``#L`` weekdays, ``%n`` every-n-weeks
  weekdays, wrapping ranges, ``&`` to require both day fields, ``@daily``-style shortcuts,
  a trailing time zone);
* Fugit's natural language (``every day at 2am``, ``every weekday 8am to 5pm``, ...).

The parsers are a port of Fugit 1.14's grammars (``Fugit::Cron::Parser``,
``Fugit::Nat::Parser``) on a tiny PEG engine that behaves like Raabro, the parser library
Fugit uses, so that anything Fugit accepts is accepted and anything it rejects is rejected.
The documented deviations are listed in ``docs/recurring.md``.

Public API: :func:`parse_schedule`, :class:`Schedule`, :class:`InvalidSchedule`.
"""

from __future__ import annotations

import bisect
import calendar
import functools
import random
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

__all__ = ["InvalidSchedule", "Schedule", "parse_schedule"]

EXPECTED = "expected a cron line like '0 8 * * mon-fri' or a phrase like 'every day at 2am'"
SEARCH_YEARS = 100
"""How far ahead :meth:`Schedule.next_time` looks before giving up."""


class InvalidSchedule(ValueError):
    """A schedule string that is neither a valid cron line nor a supported phrase."""

    def __init__(self, text: object, reason: str = EXPECTED) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"Invalid schedule {text!r}: {reason}")


class _Reject(Exception):
    """Raised inside the parsers where Fugit would fail (return nil or raise)."""

    def __init__(self, reason: str = EXPECTED) -> None:
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------------------------------------
# Public API


def parse_schedule(text: str, *, default_timezone: tzinfo | str | None = None) -> Schedule:
    """Parse a cron line or a Fugit phrase into a :class:`Schedule`.

    ``default_timezone`` is the zone of a schedule that names none; when omitted it is
    Django's ``settings.TIME_ZONE`` if settings are configured, else UTC.

    Raises :class:`InvalidSchedule` (a ``ValueError``) for anything Solid Queue would reject.
    """
    if not isinstance(text, str):
        raise InvalidSchedule(text, "a schedule must be a string; " + EXPECTED)
    zone = _zone_from(default_timezone) if default_timezone is not None else _default_zone()
    try:
        spec, explicit = _parse_cached(text)
    except _Reject as err:
        raise InvalidSchedule(text, err.reason) from None
    return Schedule(
        text=text,
        cron=spec.to_cron(explicit),
        timezone=zone if explicit is None else explicit,
        _spec=spec,
    )


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


# ---------------------------------------------------------------------------------------------
# Time zones


def _default_zone() -> tzinfo:
    """Django's ``TIME_ZONE`` when settings are configured, else UTC."""
    try:
        from django.conf import settings
    except ImportError:  # pragma: no cover - Django is a dependency
        return _UTC
    if not settings.configured or not getattr(settings, "TIME_ZONE", None):
        return _UTC
    return _zone_from(settings.TIME_ZONE)


def _zone_from(value: tzinfo | str) -> tzinfo:
    if isinstance(value, tzinfo):
        return value
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"unknown time zone {value!r}") from err


_UTC: tzinfo = ZoneInfo("UTC")


def _zone_key(zone: tzinfo) -> object:
    if isinstance(zone, ZoneInfo):
        return zone.key
    if isinstance(zone, timezone):
        return zone.utcoffset(None)
    return zone


def _zone_name(zone: tzinfo) -> str:
    if isinstance(zone, ZoneInfo):
        return zone.key
    return zone.tzname(None) or "UTC"


# et-orbi's ZONE_ALIASES entries that a cron's zone pattern can match (no spaces).
_ZONE_ALIASES = {
    "UTC-11": "Etc/GMT+11",
    "UTC+12": "Etc/GMT-12",
    "UTC-02": "Etc/GMT+2",
    "CST5CDT": "CST6CDT",
}
_ABBR_OFFSET_RE = re.compile(r"([A-Z]{3,4})([+-])(\d{1,2}):?(\d{2})?", re.ASCII)
_OFFSET_ZONE_RE = re.compile(r"([+-][0-1]?[0-9]):?([0-5][0-9])?", re.ASCII)


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


@functools.lru_cache(maxsize=256)
def _get_tzone(name: str) -> tzinfo | None:
    """Resolve a zone the way et-orbi's ``EtOrbi.get_tzone`` does (None when unknown)."""
    if name == "Z":
        return _UTC
    name = _ZONE_ALIASES.get(name) or _abbreviation_zone(name) or name
    return _offset_zone(name) or _named_zone(name)


def _abbreviation_zone(name: str) -> str | None:
    """``CET+1``-style names: the first zone with that abbreviation and offset this year."""
    m = _ABBR_OFFSET_RE.fullmatch(name)
    if m is None:
        return None
    abbr = m[1]
    abbrs = [abbr, abbr + "T"] if len(abbr) < 4 else [abbr]
    sign = 1 if m[2] == "+" else -1
    offset = timedelta(seconds=sign * (int(m[3]) * 3600 + int(m[4] or "0") * 60))
    year = datetime.now(UTC).year
    probes = [datetime(year, 1, 1, tzinfo=UTC), datetime(year, 7, 1, tzinfo=UTC)]
    for key in sorted(_zone_names()):
        zone = ZoneInfo(key)
        for probe in probes:
            local = probe.astimezone(zone)
            if local.tzname() in abbrs and local.utcoffset() == offset:
                return key
    return None


def _offset_zone(name: str) -> tzinfo | None:
    """``+09:00``-style fixed offsets; like et-orbi, hours beyond 11 are refused."""
    m = _OFFSET_ZONE_RE.fullmatch(name)
    if m is None:
        return None
    hours, minutes = int(m[1]), int(m[2] or "0")
    if abs(hours) > 11:
        return None
    if hours < 0:
        minutes = -minutes
    return timezone(timedelta(hours=hours, minutes=minutes), name)


def _named_zone(name: str) -> tzinfo | None:
    """IANA names; like et-orbi, trailing characters are dropped until a name matches."""
    names = _zone_names()
    while name:
        if name in names:
            return ZoneInfo(name)
        if re.fullmatch(r"UTC[-+](\d|1[0-2])", name):
            return None  # listed by et-orbi, but TZInfo cannot load it: Fugit raises
        name = name[:-1]
    return None


# ---------------------------------------------------------------------------------------------
# A tiny PEG engine with Raabro's semantics (ordered choice, greedy repetition, no
# backtracking into a successful element, joined sequences that give back a dangling
# separator, whole input consumed).


@dataclass(slots=True)
class _Node:
    name: str | None
    start: int
    end: int
    children: list[_Node]
    source: str

    @property
    def string(self) -> str:
        return self.source[self.start : self.end]

    def subgather(self, name: str | None = None) -> list[_Node]:
        """The topmost descendants named ``name`` (any name when None)."""
        found: list[_Node] = []
        for child in self.children:
            child._gather(name, found)
        return found

    def _gather(self, name: str | None, found: list[_Node]) -> None:
        if (name is None and self.name is not None) or (name is not None and self.name == name):
            found.append(self)
        else:
            for child in self.children:
                child._gather(name, found)

    def sublookup(self, name: str | None = None) -> _Node | None:
        """The first descendant named ``name`` (any name when None), depth first."""
        for child in self.children:
            if (name is None and child.name is not None) or (
                name is not None and child.name == name
            ):
                return child
            found = child.sublookup(name)
            if found is not None:
                return found
        return None


_Parser = Callable[[str, int], _Node | None]
_Item = _Parser | tuple[_Parser, str]


def _rex(name: str | None, pattern: str, flags: int = 0) -> _Parser:
    compiled = re.compile(pattern, flags | re.ASCII)

    def parse(source: str, pos: int) -> _Node | None:
        m = compiled.match(source[pos:])  # Ruby matches the rest of the string
        return None if m is None else _Node(name, pos, pos + m.end(), [], source)

    return parse


def _str(name: str | None, literal: str) -> _Parser:
    def parse(source: str, pos: int) -> _Node | None:
        if source.startswith(literal, pos):
            return _Node(name, pos, pos + len(literal), [], source)
        return None

    return parse


def _repeat(parser: _Parser, quantifier: str, source: str, pos: int) -> list[_Node] | None:
    low, high = {"?": (0, 1), "*": (0, 0), "+": (1, 0)}[quantifier]
    nodes: list[_Node] = []
    while True:
        node = parser(source, pos)
        if node is None:
            break
        nodes.append(node)
        if node.end == pos or len(nodes) == high:
            break
        pos = node.end
    return nodes if len(nodes) >= low else None


def _seq(name: str | None, *items: _Item) -> _Parser:
    def parse(source: str, pos: int) -> _Node | None:
        children: list[_Node] = []
        cur = pos
        for item in items:
            if isinstance(item, tuple):
                nodes = _repeat(item[0], item[1], source, cur)
                if nodes is None:
                    return None
                children.extend(nodes)
                cur = nodes[-1].end if nodes else cur
            else:
                node = item(source, cur)
                if node is None:
                    return None
                children.append(node)
                cur = node.end
        return _Node(name, pos, cur, children, source)

    return parse


def _alt(name: str | None, *parsers: _Parser) -> _Parser:
    def parse(source: str, pos: int) -> _Node | None:
        for parser in parsers:
            node = parser(source, pos)
            if node is not None:
                return _Node(name, pos, node.end, [node], source)
        return None

    return parse


def _jseq(name: str | None, element: _Parser, separator: _Parser) -> _Parser:
    def parse(source: str, pos: int) -> _Node | None:
        children: list[_Node] = []
        cur, on_element, empties = pos, False, 0
        while True:
            on_element = not on_element
            node = (element if on_element else separator)(source, cur)
            empties = empties + 1 if node is not None and node.end == node.start else 0
            if node is None or empties > 1:
                if on_element and children:
                    cur = children.pop().start  # give the dangling separator back
                break
            children.append(node)
            cur = node.end
        if not children:
            return None
        return _Node(name, pos, cur, children, source)

    return parse


def _ren(name: str, parser: _Parser) -> _Parser:
    def parse(source: str, pos: int) -> _Node | None:
        node = parser(source, pos)
        if node is not None:
            node.name = name
        return node

    return parse


def _parse_all(parser: _Parser, source: str) -> _Node | None:
    node = parser(source, 0)
    return node if node is not None and node.end == len(source) else None


_I = re.IGNORECASE


# ---------------------------------------------------------------------------------------------
# Cron grammar (Fugit::Cron::Parser)

_WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_WEEKDS = tuple(d[:3] for d in _WEEKDAYS)
_MONTHS = ("-", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _cron_field(bound: _Parser, slash: _Parser) -> _Parser:
    star, hyphen, tilde = _str(None, "*"), _str("hyphen", "-"), _str("tilde", "~")
    ranged = _seq(None, bound, (_seq(None, hyphen, bound), "?"))
    tilded = _seq(None, (bound, "?"), tilde, (bound, "?"))
    star_or_range = _alt(None, star, tilded, ranged)
    return _alt("elt", slash, _seq(None, star_or_range, (slash, "?")))


def _cron_grammar() -> _Parser:
    blank = _rex(None, r"[ \t]+")
    comma = _rex(None, r",([ \t]*,)*")
    comma_q = _rex(None, r"([ \t]*,)*")
    and_q = _rex(None, r"&?")
    slash = _rex("slash", r"/\d\d?")
    mos = _cron_field(_rex("mos", r"[0-5]?\d"), slash)
    hou = _cron_field(_rex("hou", r"(2[0-4]|[01]?[0-9])"), slash)
    dom = _cron_field(_rex("dom", r"(-?(3[01]|[12][0-9]|0?[1-9])|last|l)", _I), slash)
    mon = _cron_field(_rex("mon", r"(1[0-2]|0?[1-9]|" + "|".join(_MONTHS[1:]) + ")", _I), slash)
    dow_bound = _rex("dow", r"([0-7]|" + "|".join(_WEEKDS) + ")", _I)
    dow_hash = _rex("hash", r"#(-?[1-5]|last|l)", _I)
    mod = _rex("mod", r"%\d+(\+\d+)?")
    dow = _alt(
        None,
        _seq("elt", dow_bound, dow_hash),
        _seq("elt", dow_bound, mod),
        _cron_field(dow_bound, slash),
    )

    def lst(name: str, elt: _Parser, *tail: _Parser) -> _Parser:
        return _seq(None, comma_q, _jseq(name, elt, comma), comma_q, *tail)

    tz = _alt(
        "tz",
        _rex(None, r" +[-+]([01][0-9]|2[0-4]):?(00|15|30|45)"),
        _rex(None, r" +[A-Z][a-zA-Z0-9+\-]+(\/[A-Z][a-zA-Z0-9+\-_]+){0,2}"),
    )
    fields = (
        lst("min", mos, blank),
        lst("hou", hou, blank),
        lst("dom", dom, and_q, blank),
        lst("mon", mon, blank),
        lst("dow", dow, and_q),
        (tz, "?"),
    )
    return _alt("cron", _seq("scron", lst("sec", mos, blank), *fields), _seq("ccron", *fields))


_CRON = _cron_grammar()

_SPECIALS = {
    "@reboot": None,
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@noon": "0 12 * * *",
    "@hourly": "0 * * * *",
}
_MAXDAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_FIELD_BOUNDS = {"sec": (0, 59), "min": (0, 59), "hou": (0, 23), "dom": (1, 31), "mon": (1, 12)}
_RUBY_BLANK = " \t\n\v\f\r\x00"

# An element of a cron field: (start, end, separator, slash, hash, modulo).
_Elt = tuple[int | None, int | None, str | None, int | None, int | None, tuple[int, int] | None]
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


def _parse_cron(text: str, seed: str) -> tuple[_CronSpec, tzinfo | None] | None:
    """Fugit::Cron.parse: None when the grammar does not match, _Reject when invalid."""
    text = text.strip(_RUBY_BLANK)
    if text.startswith("@"):
        head, *rest = re.split(r"[ \t\r\n\f\v]+", text, maxsplit=1)
        special = _SPECIALS.get(head)
        if special is None:
            return None
        text = " ".join([special, *rest])
    tree = _parse_all(_CRON, text)
    if tree is None:
        return None
    return _CronBuilder(seed).build(tree, "&" in text)


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


# ---------------------------------------------------------------------------------------------
# Durations (Fugit::Duration::Parser): Fugit tries them before phrases, so a string that is a
# duration (a bare number such as "5") is not a schedule even though the phrase grammar would
# read it as "at 5".


def _duration_grammar() -> _Parser:
    number = r"(\d+\.\d*|(\d*\.)?\d+) *"
    element = _alt(
        None,
        _rex("yea", number + r"y(ears?)?", _I),
        _rex("mon", number + r"(M|months?)"),
        _rex("wee", number + r"w(eeks?)?", _I),
        _rex("day", number + r"d(ays?)?", _I),
        _rex("hou", number + r"h(ours?)?", _I),
        _rex("min", number + r"m(in(ute)?s?)?"),
        _rex("sec", number + r"s(ec(ond)?)?s?", _I),
        _rex("sec", r"(\d+\.\d*|\.\d+|\d+)$"),
    )
    signed = _seq("sdur", (_rex("sign", r"[-+]?"), "?"), (element, "+"))
    return _jseq("dur", signed, _rex(None, r"([ \t,]+|and)*", _I))


_DURATION = _duration_grammar()


# ---------------------------------------------------------------------------------------------
# Phrases (Fugit::Nat::Parser)

_ONE_TO_NINE = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_SIXTIES = [
    "zero",
    *_ONE_TO_NINE,
    *"ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split(),
    *(
        f"{tens}-{one}" if one else tens
        for tens in ("twenty", "thirty", "forty", "fifty")
        for one in ["", *_ONE_TO_NINE]
    ),
]
_NHOURS = {**{name: i for i, name in enumerate(_SIXTIES[:13])}, "midnight": 0, "oh": 0, "noon": 12}
_NMINUTES = {**{name: i for i, name in enumerate(_SIXTIES)}, "o'clock": 0, "hundred": 0}
_ORDINAL_WORDS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth "
    "twenty-first twenty-second twenty-third twenty-fourth twenty-fifth twenty-sixth "
    "twenty-seventh twenty-eighth twenty-ninth thirtieth thirty-first"
).split()
_OMONTHDAYS: dict[str, int | str] = {
    "1st": 1, "2nd": 2, "3rd": 3, "21st": 21, "22nd": 22, "23rd": 23, "31st": 31, "last": "L",
    **{f"{i}th": i for i in range(4, 31)},
    **{word: i + 1 for i, word in enumerate(_ORDINAL_WORDS)},
}  # fmt: skip


def _nat_time_grammar() -> _Parser:
    """``at`` objects: 5pm, 16:30, five thirty, noon, minute 10..."""
    ampm = _rex("ampm", r"[ \t]*(am|AM|pm|PM|[Nn]oon|[Mm]idday|[Mm]idnight)")
    named_min = _seq(None, _rex(None, r"[ \t]+"), _rex("named_m", "|".join(_NMINUTES), _I))
    named_hour = _seq(
        "named_hour",
        _rex("named_h", "|".join(_NHOURS), _I),
        (_rex("dark", r"[ \t]*dark", _I), "?"),
        (named_min, "?"),
        (ampm, "?"),
    )
    digital = _seq(
        "digital_hour", _rex("digital_h", r"(2[0-4]|[0-1]?[0-9]):([0-5][0-9])"), (ampm, "?")
    )
    simple = _seq(
        "simple_hour", _rex("simple_h", "|".join(str(h) for h in range(24, -1, -1))), (ampm, "?")
    )
    point = _rex("point", r"(minutes?|mins?|seconds?|secs?|hours?|hou|h)[ \t]+", _I)
    counts = _jseq(None, _rex("count", r"\d+"), _NAT_AND_OR_COMMA)
    at_point = _jseq(None, _seq("at_p", point, counts), _rex(None, r"[ \t]*(and|or)[ \t]+", _I))
    return _alt(None, named_hour, digital, simple, at_point)


_NAT_AND_OR_COMMA = _rex(None, r"[ \t]*(,[ \t]*)?((and|or)[ \t]+|,[ \t]*)", _I)


def _nat_grammar() -> _Parser:
    and_or_or = _rex(None, r"[ \t]*(and|or)[ \t]+", _I)
    the = _rex(None, r"[ \t]*the[ \t]+", _I)
    to = _rex(None, r"[ \t]*to[ \t]+", _I)
    omonthday = _rex("omonthday", "|".join(_OMONTHDAYS), _I)
    omonthdays = _jseq(None, omonthday, _NAT_AND_OR_COMMA)
    weekday_rex = "(" + "|".join(_WEEKDAYS + _WEEKDS) + r")(?=($|[-, \t]))"
    weekday = _rex("weekday", weekday_rex, _I)
    weekdays = _jseq("weekdays", weekday, _NAT_AND_OR_COMMA)
    at_object = _nat_time_grammar()

    minute = _rex(None, r"[ \t]*minute[ \t]+", _I)
    dmin = _rex("dmin", r"[0-5]?[0-9]")
    on_object = _alt(
        None,
        _seq(
            "on_days",
            _rex(None, r"[ \t]*days?[ \t]+", _I),
            _jseq(None, _rex("monthday", r"3[0-1]|[0-2]?[0-9]"), _NAT_AND_OR_COMMA),
        ),
        _ren("on_weekdays", weekdays),
        _seq("on_minutes", minute, dmin, (_seq(None, _NAT_AND_OR_COMMA, (minute, "?"), dmin), "*")),
        _jseq("on_thes", _seq(None, the, omonthdays), _NAT_AND_OR_COMMA),
        _rex("on_thex", r"[ \t]*the[ \t]+(hour|minute)[ \t]*", _I),
    )
    on = _seq(
        "on",
        _rex(None, r"[ \t]*on[ \t]+", _I),
        _jseq(None, on_object, _rex(None, r"[ \t]*and[ \t]+", _I)),
    )
    tz = _alt(
        "tz",
        _rex(None, r"[A-Z][a-zA-Z0-9+\-]+(\/[A-Z][a-zA-Z0-9+\-_]+){0,2}"),
        _rex(None, r"Z|UTC"),
        _rex(None, r"[-+]([01][0-9]|2[0-4])(:?(00|15|30|45))?"),
    )
    tzone = _seq(None, (_rex(None, r"(in|on)[ \t]+", _I), "?"), tz)
    at = _seq(
        "at",
        (_rex(None, r"[ \t]*at[ \t]+", _I), "?"),
        _jseq(None, at_object, _NAT_AND_OR_COMMA),
    )

    offset = _seq(
        "offset",
        _rex(None, r"[ \t]*(starting[ \t]+at|from)[ \t]+", _I),
        _rex(None, r"(second|minute|hour|day|month)s?[ \t]+", _I),
        _rex("offset_count", r"\d+"),
    )
    every_interval = _seq(
        "every_interval",
        (_rex("count", r"\d+"), "?"),
        _rex("interval", r"[ \t]*(seconds?|minutes?|hours?|days?|months?|sec|min|s|m|h|d|M)"),
        (offset, "?"),
    )
    to_weekday = _seq(
        "to_weekday",
        weekday,
        _rex(None, r"[ \t]*-[ \t]*|[ \t]+(to|through)[ \t]+", _I),
        weekday,
    )
    to_omonthday = _seq("to_omonthday", (the, "?"), omonthday, to, (the, "?"), omonthday)
    from_ = _seq(
        None,
        (_rex(None, r"[ \t]*from[ \t]+", _I), "?"),
        _jseq(
            None,
            _alt(None, to_weekday, to_omonthday, _seq("to_hour", at_object, to, at_object)),
            and_or_or,
        ),
    )
    # Deviation: Fugit requires "of the month"; "of month" is accepted too (see docs).
    of_the_month = _seq(None, omonthdays, _rex(None, r"[ \t]+of (the )?month"))
    every_object = _alt(
        None,
        _jseq(None, _alt(None, to_weekday, weekdays), and_or_or),
        of_the_month,
        every_interval,
        _rex("every_named", r"weekday", _I),
        _rex("every_single_interval", r"(1[ \t]+)?(week|year)"),
    )
    every = _seq(
        "every", _rex(None, r"[ \t]*every[ \t]+", _I), _jseq(None, every_object, and_or_or)
    )
    element = _alt(None, every, from_, at, tzone, on)
    return _jseq("nat", element, _rex(None, r"([ \t]+|[ \t]*,[ \t]*)"))


_NAT = _nat_grammar()
_NAT_MAX_LENGTH = 256

_Scalar = int | str
_Value = _Scalar | list[_Scalar] | None
_Grade = int | bool | None


def _array(value: _Value) -> list[_Scalar]:
    """Ruby's ``Array(x)``."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _is_int(value: object, expected: int) -> bool:
    """Ruby's ``x == n`` for an Integer n (``true == 1`` is false in Ruby)."""
    return type(value) is int and value == expected


class _Slot:
    """Fugit::Nat::Slot: one piece of a phrase (hours+minutes, weekday, zone...)."""

    def __init__(
        self, key: str, d0: _Value, d1: _Value = None, *, weak: _Grade = None, strong: _Grade = None
    ) -> None:
        self.key, self.d0, self.d1, self.weak, self.strong = key, d0, d1, weak, strong

    def graded(self) -> bool:
        return self.weak is not None or self.strong is not None  # Ruby: 0 is truthy

    def data0(self) -> list[_Scalar]:
        return _array(self.d0)

    def data1(self) -> list[_Scalar]:
        return _array(self.d1)

    def append(self, other: _Slot) -> None:
        self.d0, self.d1 = self._conflate(0, other), self._conflate(1, other)
        self.weak = self.strong = None

    def _conflate(self, index: int, other: _Slot) -> _Value:
        a, b = (self.d0, other.d0) if index == 0 else (self.d1, other.d1)
        if b is None:
            return a
        if a is None:
            return b
        if index == 0:
            hours = (_is_int(other.strong, 1) and self._hour_range()) or (
                _is_int(self.strong, 1) and other._hour_range()
            )
            if hours:
                first, last = hours[0], hours[1] - 1
                return first if first == last else f"{first}-{last}"
        return self._pick(index, other, a, b)

    def _pick(self, index: int, other: _Slot, a: _Value, b: _Value) -> _Value:
        if _is_int(self.strong, index) or self.strong is True:
            return a
        if _is_int(other.strong, index) or other.strong is True:
            return b
        if _is_int(other.weak, index) or other.weak is True:
            return a
        if _is_int(self.weak, index) or self.weak is True:
            return b
        if a == "*" and b == "*":
            return ["*"]
        return [*([] if a == "*" else _array(a)), *([] if b == "*" else _array(b))]

    def _hour_range(self) -> tuple[int, int] | None:
        if self.key != "hm" or not _is_int(self.d1, 0):
            return None
        if not isinstance(self.d0, str):
            raise _Reject()  # Fugit calls String#match on it and raises
        m = re.fullmatch(r"(\d+)-(\d+)", self.d0, re.ASCII)
        return (int(m[1]), int(m[2])) if m else None


def _adjust_hour(hour: int | None, ampm: str | None) -> int | None:
    if ampm == "midnight" and hour == 12:
        return 24
    if ampm == "pm":
        if hour is None:
            raise _Reject()
        return hour + 12 if hour < 12 else hour
    if ampm == "am" and hour == 12:
        return 0
    return hour


def _text(node: _Node | None) -> str | None:
    return None if node is None else node.string.strip(_RUBY_BLANK).lower()


class _NatRewriter:
    """Fugit::Nat::Parser's rewrite_* methods: parse tree -> slots."""

    def slots(self, tree: _Node) -> list[_Slot]:
        found: list[_Slot] = []
        for node in tree.subgather():
            self._collect(self.rewrite(node), found)
        return found

    def _collect(self, value: object, found: list[_Slot]) -> None:
        if isinstance(value, list):
            for item in value:
                self._collect(item, found)
        elif isinstance(value, _Slot):
            found.append(value)
        else:  # Ruby would call #key on it and raise
            raise _Reject()

    def rewrite(self, node: _Node) -> object:
        method: Callable[[_Node], object] = getattr(self, f"_rewrite_{node.name}")
        return method(node)

    def _subs(self, node: _Node, name: str | None = None) -> list[object]:
        return [self.rewrite(child) for child in node.subgather(name)]

    def _rewrite_every(self, node: _Node) -> object:
        first = node.sublookup()
        return None if first is None else self.rewrite(first)

    def _rewrite_at(self, node: _Node) -> object:
        return self._subs(node)

    _rewrite_on = _rewrite_at

    def _rewrite_tz(self, node: _Node) -> _Slot:
        return _Slot("tz", node.string)

    def _rewrite_on_days(self, node: _Node) -> object:
        return self._subs(node, "monthday")

    def _rewrite_on_thes(self, node: _Node) -> object:
        return self._subs(node, "omonthday")

    def _rewrite_monthday(self, node: _Node) -> _Slot:
        return _Slot("monthday", int(node.string))

    def _rewrite_omonthday(self, node: _Node) -> _Slot:
        return _Slot("monthday", _OMONTHDAYS[node.string.lower()])

    def _rewrite_weekday(self, node: _Node) -> int:
        return _WEEKDS.index(node.string[:3].lower())

    def _rewrite_weekdays(self, node: _Node) -> _Slot:
        return _Slot("weekday", [self._rewrite_weekday(n) for n in node.subgather("weekday")])

    _rewrite_on_weekdays = _rewrite_weekdays

    def _rewrite_to_weekday(self, node: _Node) -> _Slot:
        first, last = (self._rewrite_weekday(n) for n in node.subgather("weekday"))
        return _Slot("weekday", f"{first}-{last}")

    def _rewrite_to_omonthday(self, node: _Node) -> _Slot:
        first, last = (_OMONTHDAYS[n.string.lower()] for n in node.subgather("omonthday"))
        return _Slot("monthday", f"{first}-{last}")

    def _rewrite_on_minutes(self, node: _Node) -> _Slot:
        minutes = ",".join(n.string.strip(_RUBY_BLANK) for n in node.subgather("dmin"))
        return _Slot("hm", "*", minutes, strong=1)

    def _rewrite_on_thex(self, node: _Node) -> _Slot:
        if re.search("hour", node.string, re.IGNORECASE):
            return _Slot("hm", 0, "*", strong=0)
        return _Slot("hm", "*", "*", strong=1)

    def _rewrite_digital_hour(self, node: _Node) -> _Slot:
        digits = _text(node.sublookup("digital_h")) or ""
        hour, minute = (int(part) for part in digits.split(":"))
        return _Slot("hm", _adjust_hour(hour, _text(node.sublookup("ampm"))), minute)

    def _rewrite_simple_hour(self, node: _Node) -> _Slot:
        hour = int(_text(node.sublookup("simple_h")) or "0")
        return _Slot("hm", _adjust_hour(hour, _text(node.sublookup("ampm"))), 0)

    def _rewrite_named_hour(self, node: _Node) -> _Slot:
        hour_node, minute_node = node.sublookup("named_h"), node.sublookup("named_m")
        assert hour_node is not None
        hour = _NHOURS.get(hour_node.string.strip(_RUBY_BLANK))  # case-sensitive, as in Fugit
        minute: _Scalar = 0
        if minute_node is not None:
            name = minute_node.string.strip(_RUBY_BLANK)
            minute = _NMINUTES.get(name, name)
        return _Slot("hm", _adjust_hour(hour, _text(node.sublookup("ampm"))), minute)

    def _rewrite_to_hour(self, node: _Node) -> _Slot:
        first, last = (self.rewrite(n) for n in node.subgather()[:2])
        if not isinstance(first, _Slot) or not isinstance(last, _Slot):
            raise _Reject()
        if first.data1() != last.data1():
            raise _Reject("the two ends of an hour range must have the same minutes")
        return _Slot("hm", f"{_ruby_s(first.d0)}-{_ruby_s(last.d0)}", 0, strong=0)

    def _rewrite_at_p(self, node: _Node) -> _Slot:
        point = _text(node.sublookup("point")) or ""
        unit = "M" if point.startswith("mon") else point[:1]
        counts: list[_Scalar] = [int(n.string) for n in node.subgather("count")]
        if unit == "m":
            return _Slot("hm", "*", counts, strong=1)
        return _Slot("second" if unit == "s" else unit, counts)

    def _rewrite_every_interval(self, node: _Node) -> _Slot:
        count_node, offset_node = node.sublookup("count"), node.sublookup("offset")
        interval_node = node.sublookup("interval")
        assert interval_node is not None
        count = count_node.string.strip(_RUBY_BLANK) if count_node else "1"
        unit = interval_node.string.strip(_RUBY_BLANK)[:3]
        unit = "M" if unit == "M" or unit.lower() == "mon" else unit[:1].lower()
        offset = offset_node.sublookup("offset_count") if offset_node else None
        if offset is not None:
            value = f"{int(offset.string)}/{count}"
        else:
            value = "*" if count == "1" else f"*/{count}"
        if unit == "M":
            return _Slot("month", value)
        if unit == "d":
            return _Slot("monthday", value, weak=True)
        if unit == "h":
            return _Slot("hm", value, 0, weak=1)
        if unit == "m":
            return _Slot("hm", "*", value, strong=1)
        return _Slot("second", value)

    def _rewrite_every_named(self, node: _Node) -> _Slot:
        return _Slot("weekday", "1-5", weak=True)

    def _rewrite_every_single_interval(self, node: _Node) -> object:
        if "year" in node.string:
            return [_Slot("month", 1, weak=True), _Slot("monthday", 1, weak=True)]
        return _Slot("weekday", 0, weak=True)


def _ruby_s(value: _Value) -> str:
    """Ruby's ``to_s`` as used in string interpolation."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "[" + ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in value) + "]"
    return str(value)


class _SlotGroup:
    """Fugit::Nat::SlotGroup: slots -> one cron line (or several: MULTI)."""

    def __init__(self, slots: list[_Slot]) -> None:
        self.slots: dict[str, _Slot] = {}
        self.hms: list[_Slot] = []
        for slot in slots:
            if slot.key == "hm":
                self.hms.append(slot)
            elif slot.key in self.slots:
                self.slots[slot.key].append(slot)
            else:
                self.slots[slot.key] = slot
        if "monthday" in self.slots or "weekday" in self.slots or "month" in self.slots:
            if not self.hms:
                self.hms.append(_Slot("hm", 0, 0))
            if "month" in self.slots and "weekday" not in self.slots:
                self.slots.setdefault("monthday", _Slot("monthday", 1))

    def crons(self) -> list[str]:
        return [self._cron(hours, minutes) for hours, minutes in self._hours_minutes()]

    def _hours_minutes(self) -> list[tuple[list[_Scalar], list[_Scalar]]]:
        if not self.hms:
            return [(["*"], ["*"])]
        hms = list(self.hms)
        while len(hms) > 1:
            graded = next((i for i, slot in enumerate(hms) if slot.graded()), None)
            if graded is None:
                break
            keeper = hms[graded]
            keeper.append(hms.pop(1 if graded == 0 else graded - 1))
        by_minute: dict[_Scalar, list[_Scalar]] = {}
        for slot in hms:
            for minute in slot.data1():
                by_minute.setdefault(minute, []).extend(slot.data0())
        by_hours: dict[tuple[_Scalar, ...], list[_Scalar]] = {}
        for minute, hours in by_minute.items():
            try:
                key = tuple(sorted(hours))
            except TypeError:  # Ruby cannot sort [17, "*"] either
                raise _Reject() from None
            by_hours.setdefault(key, []).append(minute)
        return [(list(hours), minutes) for hours, minutes in by_hours.items()]

    def _cron(self, hours: list[_Scalar], minutes: list[_Scalar]) -> str:
        def slot(key: str, default: str) -> list[_Scalar]:
            found = self.slots.get(key)
            return found.data0() if found else [default]

        fields = [slot("second", "0"), minutes, hours]
        fields += [slot("monthday", "*"), slot("month", "*"), slot("weekday", "*")]
        if "tz" in self.slots:
            fields.append(self.slots["tz"].data0())
        if fields[0] == ["0"]:
            fields.pop(0)
        return " ".join(",".join(_ruby_s(v) for v in _letters_last(f)) for f in fields)


def _letters_last(values: list[_Scalar]) -> list[_Scalar]:
    unique = list(dict.fromkeys((type(v), v) for v in values))
    return [v for _, v in sorted(unique, key=lambda tv: tv[1] if tv[0] is int else 999_999)]


# ---------------------------------------------------------------------------------------------
# Fugit.parse(s, multi: :fail), keeping only crons


@functools.lru_cache(maxsize=1024)
def _parse_cached(text: str) -> tuple[_CronSpec, tzinfo | None]:
    """Cron first, then (unless it is a duration) a phrase, as ``Fugit.parse`` does."""
    cron_error: _Reject | None = None
    try:
        parsed = _parse_cron(text, text)
    except _Reject as err:
        parsed, cron_error = None, err
    if parsed is not None:
        return parsed
    stripped = text.strip(_RUBY_BLANK)
    if _parse_all(_DURATION, stripped) is not None:
        raise _Reject("that is a duration, not a recurring schedule; " + EXPECTED)
    try:
        return _parse_nat(stripped)
    except _Reject as err:
        if cron_error is not None and err.reason == EXPECTED:
            raise cron_error from None
        raise


def _parse_nat(text: str) -> tuple[_CronSpec, tzinfo | None]:
    if len(text) > _NAT_MAX_LENGTH:
        raise _Reject(f"phrases are limited to {_NAT_MAX_LENGTH} characters")
    tree = _parse_all(_NAT, text)
    if tree is None:
        raise _Reject()
    crons = _SlotGroup(_NatRewriter().slots(tree)).crons()
    if len(crons) > 1:
        raise _Reject(
            f"it describes several cron lines ({'; '.join(crons)}), which Solid Queue refuses: "
            "use one cron line, or one recurring task per line"
        )
    parsed = _parse_cron(crons[0], crons[0])
    if parsed is None:
        raise _Reject()
    return parsed


# ---------------------------------------------------------------------------------------------
# Next fire time

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
