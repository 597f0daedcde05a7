"""How a recurring entry's problems are worded and filed: a ``Where`` names the entry and its
options — the settings as ``SOLIDQ['RECURRING']['x']['schedule']``, the admin's form by
label — and ``problem`` files one under its option and the check id the field table gives
that option."""

from __future__ import annotations

from dataclasses import dataclass

from django_solidq.conf import Problem
from django_solidq.models.recurring_task import BY_OPTION


@dataclass(frozen=True)
class Where:
    """How problems name an entry (``whole``), one of its options (``option``), and say
    something about it (``about``)."""

    entry: str

    def whole(self) -> str:
        return self.entry

    def option(self, name: str) -> str:
        return f"{self.entry}[{name!r}]"

    def about(self, text: str) -> str:
        return f"{self.entry}: {text}"


def problem(option: str, msg: str, hint: str) -> Problem:
    """A problem with ``option``, under the check id the field table gives it."""
    return Problem(BY_OPTION[option].check_id, msg, hint, field=option)
