"""A parsed phrase -> slots (Fugit::Nat::Parser's rewrite_* methods)."""

from __future__ import annotations

import re
from collections.abc import Callable

from .errors import _Reject
from .nat_grammar import _NHOURS, _NMINUTES, _OMONTHDAYS
from .nat_slots import _ruby_s, _Scalar, _Slot
from .peg import _RUBY_BLANK, _Node
from .spec import _WEEKDS


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
