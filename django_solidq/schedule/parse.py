"""``Fugit.parse(s, multi: :fail)``, keeping only crons: a cron line, else a phrase.

Durations (Fugit::Duration::Parser): Fugit tries them before phrases, so a string that is a
duration (a bare number such as "5") is not a schedule even though the phrase grammar would
read it as "at 5".
"""

from __future__ import annotations

import functools
from datetime import tzinfo

from .cron import _parse_cron
from .errors import EXPECTED, _Reject
from .nat_grammar import _NAT
from .nat_rewriter import _NatRewriter
from .nat_slots import _SlotGroup
from .peg import _I, _RUBY_BLANK, _alt, _jseq, _parse_all, _Parser, _rex, _seq
from .spec import _CronSpec


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
_NAT_MAX_LENGTH = 256


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
