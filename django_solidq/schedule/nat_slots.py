"""Fugit::Nat's slots: the pieces of a phrase, grouped into cron lines."""

from __future__ import annotations

import re

from .errors import _Reject

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
