"""Recurring-task schedules: cron lines and Fugit-style phrases.

Solid Queue parses a recurring task's ``schedule:`` with the Ruby gem Fugit
(``Fugit.parse(s, multi: :fail)``, accepted only when the result is a cron). This package
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

from datetime import tzinfo

from .errors import EXPECTED as EXPECTED
from .errors import InvalidSchedule, _Reject
from .model import Schedule
from .parse import _parse_cached
from .times import SEARCH_YEARS as SEARCH_YEARS
from .zones import _default_zone, _zone_from

__all__ = ["InvalidSchedule", "Schedule", "parse_schedule"]

# Tracebacks, doctests and stored error class paths name the classes by their public path.
InvalidSchedule.__module__ = Schedule.__module__ = __name__


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
