"""django_solidq-only tasks for benchmarks/concurrency.py (the peer has no concurrency limits)."""

from __future__ import annotations

from django.tasks import task

from django_solidq import limits_concurrency


@task
def free(key: int) -> None:
    """No limit: the baseline."""


@task(concurrency=limits_concurrency(key="hot", to=1))
def hot(key: int) -> None:
    """Every job on one key, one at a time."""


@task(concurrency=limits_concurrency(key=lambda key: key, to=2))
def many(key: int) -> None:
    """Keys spread jobs; two at a time per key."""
