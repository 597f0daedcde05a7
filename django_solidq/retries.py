"""Declarative retries and discards, with Active Job's semantics.

``@task(retry_on=[retry_on(GatewayError, wait=polynomially_longer, attempts=5)],
discard_on=[InvalidCard])``: when a job raises, the last matching rule wins (rules are read
from the bottom, as Rails reads ``retry_on``/``discard_on`` declarations; ``discard_on``
counts as declared after ``retry_on``). Each retry rule counts its own executions; when a
rule's ``attempts`` are used up the job fails (or its ``on_exhausted`` callback handles it).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from .errors import class_path

Wait = float | int | timedelta | Callable[[int], float] | str
UNLIMITED = "unlimited"
DEFAULT_JITTER = 0.15


def polynomially_longer(executions: int) -> float:
    """Active Job's backoff without jitter: executions⁴ + 2 seconds (3 s, 18 s, 83 s, 258 s…)."""
    return executions**4 + 2


exponentially_longer = polynomially_longer  # the name older Rails (and the seed) use


@dataclass(frozen=True)
class RetryRule:
    exceptions: tuple[type[BaseException], ...]
    wait: Wait = 3
    attempts: int | Literal["unlimited"] = 5
    jitter: float = DEFAULT_JITTER
    queue_name: str | None = None
    priority: int | None = None
    on_exhausted: Callable[[Any, BaseException], Any] | None = None

    @property
    def key(self) -> str:
        """The rule's counter name in ``Job.exception_executions`` (as Active Job keys it)."""
        return "[" + ", ".join(class_path(e) for e in self.exceptions) + "]"

    def matches(self, exc: BaseException) -> bool:
        return isinstance(exc, self.exceptions)

    def exhausted(self, executions: int) -> bool:
        return self.attempts != UNLIMITED and executions >= int(self.attempts)

    def delay(self, executions: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds before the next attempt, ``executions`` being this rule's count so far."""
        wait = self.wait
        if wait in ("polynomially_longer", "exponentially_longer") or wait in (
            polynomially_longer,
            exponentially_longer,
        ):
            base = float(executions**4)
            return base + _jitter(base, self.jitter, rand) + 2
        if isinstance(wait, timedelta):
            wait = wait.total_seconds()
        if callable(wait):
            return float(wait(executions))
        if isinstance(wait, int | float):
            return float(wait) + _jitter(float(wait), self.jitter, rand)
        raise TypeError(f"Unknown wait {wait!r}")


@dataclass(frozen=True)
class DiscardRule:
    exceptions: tuple[type[BaseException], ...]
    on_discard: Callable[[Any, BaseException], Any] | None = None

    def matches(self, exc: BaseException) -> bool:
        return isinstance(exc, self.exceptions)


def _jitter(delay: float, jitter: float, rand: Callable[[], float]) -> float:
    return 0.0 if not jitter else rand() * delay * jitter


def retry_on(
    *exceptions: type[BaseException],
    wait: Wait = 3,
    attempts: int | Literal["unlimited"] = 5,
    jitter: float = DEFAULT_JITTER,
    queue: str | None = None,
    priority: int | None = None,
    on_exhausted: Callable[[Any, BaseException], Any] | None = None,
) -> RetryRule:
    """Retry a job that raised one of ``exceptions``, ``attempts`` executions in all.

    ``wait``: seconds, a ``timedelta``, ``polynomially_longer`` or a callable
    ``f(executions) -> seconds``. ``jitter`` (a fraction, default 0.15) adds up to that much
    random extra wait to numeric and polynomial waits. ``queue``/``priority`` change where the
    retry runs. ``on_exhausted(result, exc)`` handles the last failure instead of failing.
    """
    _validate(exceptions, "retry_on")
    if attempts != UNLIMITED and (not isinstance(attempts, int) or attempts < 1):
        raise ValueError(f"retry_on attempts must be a positive int or 'unlimited': {attempts!r}")
    return RetryRule(tuple(exceptions), wait, attempts, jitter, queue, priority, on_exhausted)


def discard_on(
    *exceptions: type[BaseException], on_discard: Callable[[Any, BaseException], Any] | None = None
) -> DiscardRule:
    """End a job that raised one of ``exceptions`` without retrying it, recorded as discarded."""
    _validate(exceptions, "discard_on")
    return DiscardRule(tuple(exceptions), on_discard)


def _validate(exceptions: Sequence[Any], where: str) -> None:
    if not exceptions or not all(
        isinstance(e, type) and issubclass(e, BaseException) for e in exceptions
    ):
        raise TypeError(f"{where}() takes exception classes, got {exceptions!r}")


def as_discard_rules(items: Sequence[Any]) -> tuple[DiscardRule, ...]:
    """``discard_on=[InvalidCard, discard_on(Other, on_discard=...)]``: classes or rules."""
    return tuple(i if isinstance(i, DiscardRule) else discard_on(i) for i in items)


@dataclass(frozen=True)
class Decision:
    """What happens after a failed attempt."""

    action: Literal["retry", "discard", "fail"]
    rule: RetryRule | DiscardRule | None = None
    delay: float = 0.0
    callback: Callable[[Any, BaseException], Any] | None = None


def decide(
    retry_rules: Sequence[RetryRule],
    discard_rules: Sequence[DiscardRule],
    exc: BaseException,
    counters: dict[str, int],
) -> Decision:
    """The last matching rule decides. ``counters`` are the job's per-rule executions, updated
    in place for the matching retry rule."""
    rules: list[RetryRule | DiscardRule] = [*retry_rules, *discard_rules]
    for rule in reversed(rules):
        if not rule.matches(exc):
            continue
        if isinstance(rule, DiscardRule):
            return Decision("discard", rule, callback=rule.on_discard)
        executions = counters.get(rule.key, 0) + 1
        counters[rule.key] = executions
        if rule.exhausted(executions):
            if rule.on_exhausted is not None:
                return Decision("discard", rule, callback=rule.on_exhausted)
            return Decision("fail", rule)
        return Decision("retry", rule, delay=rule.delay(executions))
    return Decision("fail")
