"""The error of an invalid schedule, and the parsers' internal rejection."""

from __future__ import annotations

EXPECTED = "expected a cron line like '0 8 * * mon-fri' or a phrase like 'every day at 2am'"


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
