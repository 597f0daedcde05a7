"""Tasks for the state-machine tests: one per kind of job the transitions treat differently.

Each takes ``(n, key, mode)``: ``key`` feeds the concurrency or unique key; ``mode`` says how an
attempt ends — ``ok`` returns, ``fail`` raises an error no rule handles (failed for good),
``retry`` raises one a retry rule handles (scheduled a minute later, at most 3 attempts),
``discard`` raises one a discard rule handles.
"""

from __future__ import annotations

from django.tasks import task

from django_solidq import discard_on, limits_concurrency, retry_on, unique


class Failing(Exception):
    pass


class Retryable(Exception):
    pass


class Discardable(Exception):
    pass


RULES = {
    "retry_on": [retry_on(Retryable, wait=60, jitter=0, attempts=3)],
    "discard_on": [discard_on(Discardable)],
}


def _key(n: int, key: str = "a", mode: str = "ok") -> str:
    return key


def _attempt(n: int, mode: str) -> int:
    if mode == "fail":
        raise Failing(str(n))
    if mode == "retry":
        raise Retryable(str(n))
    if mode == "discard":
        raise Discardable(str(n))
    return n


@task(**RULES)
def plain(n: int, key: str = "a", mode: str = "ok") -> int:
    return _attempt(n, mode)


@task(concurrency=limits_concurrency(key=_key, to=2), **RULES)
def limited_block(n: int, key: str = "a", mode: str = "ok") -> int:
    return _attempt(n, mode)


@task(concurrency=limits_concurrency(key=_key, to=1, on_conflict="discard"), **RULES)
def limited_discard(n: int, key: str = "a", mode: str = "ok") -> int:
    return _attempt(n, mode)


@task(unique=unique(key=_key), **RULES)
def unique_return(n: int, key: str = "a", mode: str = "ok") -> int:
    return _attempt(n, mode)


@task(unique=unique(key=_key, on_duplicate="drop"), **RULES)
def unique_drop(n: int, key: str = "a", mode: str = "ok") -> int:
    return _attempt(n, mode)


KINDS = {
    "plain": plain,
    "limited/block": limited_block,
    "limited/discard": limited_discard,
    "unique/return": unique_return,
    "unique/drop": unique_drop,
}
