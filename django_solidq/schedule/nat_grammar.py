"""The grammar of Fugit's natural-language phrases (Fugit::Nat::Parser)."""

from __future__ import annotations

from .peg import _I, _alt, _jseq, _Parser, _ren, _rex, _seq
from .spec import _WEEKDAYS, _WEEKDS

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
