"""Cron lines (Fugit::Cron::Parser): the grammar, ``@daily``-style shortcuts, parsing."""

from __future__ import annotations

import re
from datetime import tzinfo

from .cron_builder import _CronBuilder
from .peg import _I, _RUBY_BLANK, _alt, _jseq, _parse_all, _Parser, _rex, _seq, _str
from .spec import _MONTHS, _WEEKDS, _CronSpec


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
