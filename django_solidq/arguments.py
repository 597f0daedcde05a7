"""Job arguments: JSON values only, checked at enqueue with an error naming the argument.

Beyond "is it JSON", an argument must be storable the same way on every supported database,
so what one of them would refuse or change is refused everywhere, before anything is written:

* a NUL character or a lone surrogate in a string or a key (PostgreSQL's ``jsonb`` refuses
  both, MariaDB refuses surrogates; SQLite would store them);
* nesting deeper than ``MAX_DEPTH`` (MariaDB's JSON check stops at 32 levels; Python's
  recursion at about a thousand);
* more than ``MAX_SIZE`` bytes of JSON for one job's arguments (MariaDB's default
  ``max_allowed_packet`` is 16 MB per statement; a job's arguments should be ids, not data);
* a float of 1e16 or more (``1e308``): PostgreSQL's ``jsonb`` reads it back as an integer,
  often of another value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.json import normalize_json

from .exceptions import ArgumentNotSerializable

HINT = (
    "Pass JSON values (str, int, float, bool, None, lists, dicts with str keys); "
    "pass IDs, not objects (django_solidq.pk_of turns model instances into their ids)."
)
MAX_DEPTH = 20  # lists and dicts inside one argument
MAX_SIZE = 1_000_000  # bytes of JSON for all of one job's arguments
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _depth_problem(value: Any) -> str | None:
    """Why ``value`` nests too deeply (None if it does not); iterative, so any depth is safe."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str | bytes | bytearray):
            continue
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, Sequence):
            children = item
        else:
            continue
        if len(item) > MAX_SIZE:
            return f"it holds {len(item):,} items"
        if depth >= MAX_DEPTH:
            return f"it nests lists or dicts more than {MAX_DEPTH} levels deep"
        stack.extend((child, depth + 1) for child in children)
    return None


def _value_problem(value: Any) -> str | None:
    """Why a normalized JSON value cannot be stored alike everywhere (None if it can)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and UNSTORABLE.search(item):
            return f"the string {item[:40]!r} holds a NUL character or a lone surrogate"
        elif isinstance(item, float) and not _exact_float(item):
            return (
                f"the float {item!r} cannot be stored exactly (1e16 or more: pass an int, or "
                "a string)"
            )
    return None


def _exact_float(value: float) -> bool:
    """Not 1e16 or more: PostgreSQL's jsonb prints such a float as an integer (all digits),
    read back as an int — of another value when the float is not exactly its short form."""
    return "e+" not in repr(value)


# Values stored as they are once a string is known to hold no NUL or lone surrogate: the
# common case (ids, names), checked without the walks and the JSON round trip below.
PLAIN = frozenset({str, int, bool, type(None)})


def _plain(value: Any) -> bool:
    return type(value) in PLAIN and not (type(value) is str and UNSTORABLE.search(value))


def _normalized(value: Any, name: str, task_path: str) -> Any:
    if _plain(value):
        return value
    try:
        problem = _depth_problem(value)
        if problem:
            raise ValueError(problem)
        normalized = normalize_json(value)
        if json.loads(json.dumps(normalized, allow_nan=False)) != normalized:
            raise ValueError("it does not survive a JSON round trip (non-string dict keys?)")
        problem = _value_problem(normalized)
        if problem:
            raise ValueError(problem)
    except (TypeError, ValueError) as exc:
        raise ArgumentNotSerializable(
            f"Argument {name} of {task_path} is not JSON serializable "
            f"({type(value).__name__}: {exc}). {HINT}"
        ) from exc
    return normalized


def _describe(value: Any) -> str:
    try:
        return f"{value!r:.40}"
    except Exception:  # a hostile __repr__, or one too deep to print
        return type(value).__name__


def normalize_arguments(
    task_path: str, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    """The arguments as they will be stored, or ArgumentNotSerializable naming the culprit."""
    for key in kwargs:
        if not isinstance(key, str) or UNSTORABLE.search(key):
            raise ArgumentNotSerializable(
                f"Keyword argument name {key!r} of {task_path} cannot be stored. {HINT}"
            )
    stored = (
        [
            value
            if _plain(value)
            else _normalized(value, f"#{index} ({_describe(value)})", task_path)
            for index, value in enumerate(args)
        ],
        {key: _normalized(value, f"{key!r}", task_path) for key, value in kwargs.items()},
    )
    if _surely_small(stored):
        return stored
    size = len(json.dumps(stored))  # as the JSON columns store it: ASCII, non-ASCII escaped
    if size > MAX_SIZE:
        raise ArgumentNotSerializable(
            f"The arguments of {task_path} are {size:,} bytes of JSON, over the limit of "
            f"{MAX_SIZE:,}. {HINT}"
        )
    return stored


def _surely_small(stored: tuple[list[Any], dict[str, Any]]) -> bool:
    """Plain values whose JSON cannot reach ``MAX_SIZE``, so the exact size need not be
    computed."""
    return _plain_size_bound(stored[0], stored[1]) < MAX_SIZE


def json_size_bound(args: Sequence[Any], kwargs: Mapping[str, Any]) -> int:
    """Bytes the stored arguments take as JSON, or a little more (a cheap bound for small
    plain values, else ``json.dumps``'s length). Bulk enqueue sizes its statements with it."""
    bound = _plain_size_bound(args, kwargs)
    if 0 <= bound <= 4096:
        return bound
    return len(json.dumps([list(args), dict(kwargs)]))


def _plain_size_bound(args: Sequence[Any], kwargs: Mapping[str, Any]) -> int:
    """For plain values, an upper bound of their JSON's bytes: a character is at most 12
    (one outside the BMP is two ``\\uXXXX`` escapes), a key or value's quotes, separator and
    a number at most 32. -1 if a value is not plain."""
    values = [*args, *kwargs.values()]
    if any(type(v) not in PLAIN for v in values):
        return -1
    chars = sum(len(v) for v in values if type(v) is str) + sum(map(len, kwargs))
    return 12 * chars + 32 * (len(values) + 1)


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
