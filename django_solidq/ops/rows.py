"""The Django private API the queue relies on, in one place (re-checked on Django upgrades)."""

from __future__ import annotations

from typing import Any

from django.db import models


def raw_delete(queryset: models.QuerySet[Any]) -> int:
    """``DELETE … WHERE …`` of the queryset's rows without Django's collector: queue rows have
    nothing that cascades from them, and the collector would first read every row."""
    return int(queryset._raw_delete(queryset.db) or 0)


def mark_saved(obj: models.Model, using: str) -> None:
    """``obj`` was inserted by hand-written SQL: Django must treat it as stored in ``using``."""
    obj._state.adding = False
    obj._state.db = using


def cached_relation(obj: models.Model, name: str) -> Any:
    """The related object ``name`` if it was loaded with ``obj``, else None (never queries)."""
    relation = obj._meta.get_field(name)
    return relation.get_cached_value(obj, None)  # type: ignore[union-attr]
