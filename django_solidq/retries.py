"""Declarative retries and discards, with Active Job's semantics.

``@task(retry_on=[retry_on(GatewayError, wait=polynomially_longer, attempts=5)],
discard_on=[InvalidCard])``: when a job raises, the last matching rule wins (rules are read
from the bottom, as Rails reads ``retry_on``/``discard_on`` declarations; ``discard_on``
counts as declared after ``retry_on``). Each retry rule counts its own executions; when a
rule's ``attempts`` are used up the job fails (or its ``on_exhausted`` callback handles it).

``decide(job, task, exc)`` is the one decision after any failed attempt — an exception in the
job, its timeout, or its worker lost — as an immutable ``Outcome`` that
``ClaimedExecution.fail`` and lost-attempt recovery apply.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from django.tasks import Task
from django.utils import timezone
from django.utils.module_loading import import_string

from .conf import get_config
from .errors import class_path
from .exceptions import LOST_ATTEMPT_ERRORS, LostAttemptError

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


def lost_attempts(errors: Sequence[dict[str, Any]]) -> int:
    """How many of these recorded errors are attempts lost with their worker."""
    return sum(1 for e in errors if e.get("exception_class_path") in LOST_ATTEMPT_ERRORS)


class Attempted(Protocol):
    """What the decision reads from a job (``models.Job`` is one): as it was before the
    failed attempt was recorded."""

    queue_name: str
    priority: int
    errors: list[dict[str, Any]]
    exception_executions: dict[str, int]


def task_at(path: str) -> Task | None:
    """The task at ``path``, for its rules and options (as django.tasks imports it); None if
    it no longer imports or is not a task: then no rule applies."""
    try:
        task = import_string(path)
    except Exception:  # ImportError, or whatever its module raised
        return None
    return task if isinstance(task, Task) else None


def max_lost_attempts(task: Task | None) -> int:
    """The task's ``max_lost_attempts`` option, else ``SOLIDQ['MAX_LOST_ATTEMPTS']``."""
    option = getattr(task, "max_lost_attempts", None)
    return option if isinstance(option, int) and option > 0 else get_config().max_lost_attempts


@dataclass(frozen=True)
class Outcome:
    """What follows a failed attempt: ``retry`` at ``retry_at``, ``discard`` or ``fail`` for
    good; ``reason`` says which rule (or the lost-attempt cap) decided; ``changes`` are the
    job's fields to write with it (rule counters, a retry's queue and priority, a discard's
    end)."""

    action: Literal["retry", "discard", "fail"]
    reason: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    retry_at: datetime | None = None
    delay: float = 0.0
    rule: RetryRule | DiscardRule | None = None
    callback: Callable[[Any, BaseException], Any] | None = None


def decide(
    job: Attempted,
    task: Task | None,
    exc: BaseException,
    now: datetime | None = None,
    rand: Callable[[], float] = random.random,
) -> Outcome:
    """What follows ``exc``, the failure of ``job``'s attempt: the last matching rule of the
    task decides; a lost attempt that no rule claims runs again until the job has lost
    ``max_lost_attempts`` (a job that kills its worker every time must not loop). Pure: the
    job is not changed."""
    now = now or timezone.now()
    rules: list[RetryRule | DiscardRule] = [
        *getattr(task, "retry_on", ()),
        *getattr(task, "discard_on", ()),
    ]
    rule = next((r for r in reversed(rules) if r.matches(exc)), None)
    if isinstance(rule, DiscardRule):
        return _discard(rule, rule.on_discard, f"discard_on {_names(rule)}", now)
    if isinstance(rule, RetryRule):
        return _by_retry_rule(job, rule, now, rand)
    if isinstance(exc, LostAttemptError):
        lost, cap = lost_attempts(job.errors) + 1, max_lost_attempts(task)
        if lost < cap:
            return Outcome("retry", f"lost attempt {lost} of {cap}", retry_at=now)
        return Outcome("fail", f"lost {lost} attempts, the most allowed")
    return Outcome("fail", "no rule retries it")


def _by_retry_rule(
    job: Attempted, rule: RetryRule, now: datetime, rand: Callable[[], float]
) -> Outcome:
    """Each retry rule counts its own executions; its ``attempts`` used up, the job fails
    (or its ``on_exhausted`` handles it, as a discard)."""
    executions = job.exception_executions.get(rule.key, 0) + 1
    counters = {"exception_executions": {**job.exception_executions, rule.key: executions}}
    name = f"retry_on {_names(rule)}"
    if rule.exhausted(executions):
        if rule.on_exhausted is not None:
            return _discard(rule, rule.on_exhausted, f"{name} used up", now, counters)
        return Outcome("fail", f"{name} used up", counters, rule=rule)
    delay = rule.delay(executions, rand)
    placed = {
        "queue_name": rule.queue_name or job.queue_name,
        "priority": job.priority if rule.priority is None else rule.priority,
    }
    return Outcome(
        "retry",
        f"{name}, attempt {executions} of {rule.attempts}",
        {**counters, **placed},
        retry_at=now + timedelta(seconds=delay),
        delay=delay,
        rule=rule,
    )


def _discard(
    rule: RetryRule | DiscardRule,
    callback: Callable[[Any, BaseException], Any] | None,
    reason: str,
    now: datetime,
    changes: Mapping[str, Any] | None = None,
) -> Outcome:
    ended = {**(changes or {}), "finished_at": now, "discarded_at": now}
    return Outcome("discard", reason, ended, rule=rule, callback=callback)


def _names(rule: RetryRule | DiscardRule) -> str:
    return ", ".join(e.__name__ for e in rule.exceptions)
