"""Job arguments: JSON values only, checked at enqueue with an error naming the argument."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.json import normalize_json

from .exceptions import ArgumentNotSerializable

HINT = (
    "Pass JSON values (str, int, float, bool, None, lists, dicts with str keys); "
    "pass IDs, not objects (django_solidq.pk_of turns model instances into their ids)."
)


def _normalized(value: Any, name: str, task_path: str) -> Any:
    try:
        normalized = normalize_json(value)
        if json.loads(json.dumps(normalized, allow_nan=False)) != normalized:
            raise ValueError("it does not survive a JSON round trip (non-string dict keys?)")
    except (TypeError, ValueError) as exc:
        raise ArgumentNotSerializable(
            f"Argument {name} of {task_path} is not JSON serializable "
            f"({type(value).__name__}: {exc}). {HINT}"
        ) from exc
    return normalized


def normalize_arguments(
    task_path: str, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    """The arguments as they will be stored, or ArgumentNotSerializable naming the culprit."""
    return (
        [
            _normalized(value, f"#{index} ({value!r:.40})", task_path)
            for index, value in enumerate(args)
        ],
        {key: _normalized(value, f"{key!r}", task_path) for key, value in kwargs.items()},
    )


def pk_of(value: Any) -> Any:
    """Model instances replaced by their primary keys, in lists, tuples and dict values too.

    Solid Queue's advice is "pass IDs, not objects": the job then loads fresh data when it
    runs. ``send_receipt.enqueue(*pk_of([order]))`` or ``pk_of({"user": user})``.
    """
    from django.db.models import Model

    if isinstance(value, Model):
        return value.pk
    if isinstance(value, Mapping):
        return {key: pk_of(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [pk_of(item) for item in value]
    return value
