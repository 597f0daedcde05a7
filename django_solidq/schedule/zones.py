"""Time zones: the default zone, and the zone a schedule names, resolved like et-orbi."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


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
