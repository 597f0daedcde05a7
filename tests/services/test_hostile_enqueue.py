"""Hostile enqueues: every input either enqueues and round-trips exactly through get_result, or
is refused with one clear error naming the culprit before anything is written — alike on
SQLite, PostgreSQL and MariaDB. And get_result of a job whose task no longer imports still
returns its result."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.tasks import TaskResultStatus, default_task_backend
from django.tasks.exceptions import InvalidTask
from django.utils.json import normalize_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_solidq.arguments import MAX_DEPTH, MAX_SIZE
from django_solidq.exceptions import ArgumentNotSerializable
from django_solidq.models import Job
from django_solidq.testing import perform_enqueued_jobs
from tests.app import tasks

pytestmark = pytest.mark.django_db
REFUSED = (ArgumentNotSerializable, InvalidTask)
EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def nested(depth: int, leaf: object = 1) -> object:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def refused(call, culprit: str) -> None:
    before = Job.objects.count()
    with pytest.raises(REFUSED) as raised:
        call()
    assert isinstance(raised.value, ValueError | InvalidTask)
    assert culprit in str(raised.value), str(raised.value)
    assert Job.objects.count() == before, "something was written"


# The inputs of issue 12, one by one ------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "culprit"),
    [
        (["a\x00b"], "NUL character"),
        (["\ud800"], "lone surrogate"),
        ([{"key\x00": 1}], "NUL character"),
        ([nested(MAX_DEPTH + 10)], f"more than {MAX_DEPTH} levels"),
        ([nested(30)], f"more than {MAX_DEPTH} levels"),
        ([nested(5_000)], f"more than {MAX_DEPTH} levels"),
        (["x" * (MAX_SIZE + 1)], "over the limit"),
        # 12 bytes of JSON per character (two \uXXXX escapes): too big in bytes
        (["😀" * (MAX_SIZE // 12 + 1)], "over the limit"),
        ([1e308], "cannot be stored exactly"),
    ],
    ids=[
        "nul",
        "surrogate",
        "nul-key",
        "deep",
        "deep-30",
        "deep-5000",
        "huge",
        "huge-astral",
        "float-1e308",
    ],
)
def test_arguments_no_database_stores_alike_are_refused_naming_them(args, culprit):
    refused(lambda: tasks.echo.enqueue(*args), culprit)
    refused(lambda: tasks.echo.enqueue(named=args[0]), culprit)


def test_a_keyword_argument_name_with_a_nul_is_refused():
    refused(lambda: tasks.echo.enqueue(**{"a\x00": 1}), "Keyword argument name")


@pytest.mark.parametrize(
    ("options", "culprit"),
    [
        ({"queue_name": "q" * 129}, "queue name"),
        ({"queue_name": ""}, "queue name"),
        ({"queue_name": " padded "}, "queue name"),
        ({"queue_name": "nul\x00"}, "queue name"),
        ({"priority": True}, "priority"),
        ({"priority": "5"}, "priority"),
        ({"priority": float("nan")}, "priority"),
        ({"run_after": "tomorrow"}, "run_after"),
        ({"run_after": dt.datetime(1, 1, 1, tzinfo=dt.UTC)}, "run_after"),
        ({"run_after": dt.datetime.max.replace(tzinfo=dt.UTC)}, "run_after"),
    ],
    ids=lambda value: repr(value)[:30],
)
def test_task_options_are_refused_naming_them(options, culprit):
    refused(lambda: tasks.noop.using(**options).enqueue(), culprit)


def test_the_limits_themselves_are_accepted_and_round_trip():
    args = [nested(MAX_DEPTH - 1), "x" * (MAX_SIZE // 2), "\u2028\ufeff😀"]
    result = tasks.echo.using(queue_name="q" * 128, priority=100).enqueue(*args)
    stored = default_task_backend.get_result(result.id)
    assert same(stored.args, normalize_json(args))
    assert (stored.task.queue_name, stored.task.priority) == ("q" * 128, 100)


# get_result of a job whose task no longer imports ---------------------------------------------
@pytest.fixture
def broken_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = "solidq_broken_tasks"
    (tmp_path / f"{name}.py").write_text("def oops(:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


@pytest.mark.parametrize("path", ["tests.app.gone_forever.task", "tests.app.tasks.no_such_task"])
def test_get_result_of_a_job_whose_task_is_gone_returns_its_result(path):
    result = tasks.echo.enqueue(1, "two")
    Job.objects.filter(pk=result.id).update(task_path=path)
    found = default_task_backend.get_result(result.id)
    assert found.status == TaskResultStatus.READY
    assert found.args == [1, "two"]
    assert found.task.module_path == path
    assert "cannot be imported" in found.task.error
    with pytest.raises(Exception, match="cannot be imported"):
        found.task.call()


def test_get_result_of_a_job_whose_task_module_has_a_syntax_error_returns_it(broken_module):
    result = tasks.echo.enqueue(1)
    Job.objects.filter(pk=result.id).update(task_path=f"{broken_module}.oops")
    found = default_task_backend.get_result(result.id)
    assert found.status == TaskResultStatus.READY
    assert "SyntaxError" in found.task.error or "invalid syntax" in found.task.error
    # and a worker fails it (the import error recorded), after which it reads as FAILED
    perform_enqueued_jobs()
    failed = default_task_backend.get_result(result.id)
    assert failed.status == TaskResultStatus.FAILED
    assert failed.errors[-1].exception_class_path == "django_solidq.exceptions.TaskImportError"
    assert failed.task.module_path == f"{broken_module}.oops"


# Hypothesis: anything at all as arguments -----------------------------------------------------
HOSTILE_CHARS = st.sampled_from(["\x00", "\ud800", "\udfff", "\u2028", "\ufeff", "\U0001d518"])
TEXT = st.one_of(
    st.text(max_size=20),
    st.lists(st.one_of(st.text(max_size=3), HOSTILE_CHARS), max_size=5).map("".join),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    TEXT,
    st.binary(max_size=8),
    st.sampled_from([Decimal("1.5"), dt.date(2020, 1, 1), object(), {1, 2}, b"\xff"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(TEXT, st.integers(0, 3)), inner, max_size=4),
    ),
    max_leaves=12,
)
DEEP = st.builds(nested, st.integers(MAX_DEPTH - 2, MAX_DEPTH + 40), SCALARS)


def expected(value: object) -> object:
    return normalize_json(value)


def same(stored: object, given: object) -> bool:
    """Equal with the same JSON types throughout (an int stays an int, a float a float); the
    order of a dict's keys is not kept (PostgreSQL's jsonb sorts them) and -0.0 may come back
    as 0.0 (PostgreSQL) — equal values either way."""
    if isinstance(given, dict):
        return (
            isinstance(stored, dict)
            and stored.keys() == given.keys()
            and all(same(stored[k], v) for k, v in given.items())
        )
    if isinstance(given, list):
        return (
            isinstance(stored, list)
            and len(stored) == len(given)
            and all(same(a, b) for a, b in zip(stored, given, strict=True))
        )
    return type(stored) is type(given) and stored == given


@EXAMPLES
@given(args=st.lists(st.one_of(VALUES, DEEP), max_size=3), kwargs=st.dictionaries(TEXT, VALUES))
def test_any_arguments_round_trip_exactly_or_are_refused_writing_nothing(args, kwargs):
    before = Job.objects.count()
    try:
        result = tasks.echo.enqueue(*args, **kwargs)
    except ArgumentNotSerializable as exc:
        assert "of tests.app.tasks.echo" in str(exc) and isinstance(exc, ValueError)
        assert Job.objects.count() == before
        return
    stored = default_task_backend.get_result(result.id)
    assert same(stored.args, expected(list(args)))
    assert same(stored.kwargs, expected(kwargs))


@EXAMPLES
@given(
    queue=st.one_of(TEXT, st.text(min_size=120, max_size=140), st.integers(), st.none()),
    priority=st.one_of(st.integers(-150, 150), st.booleans(), st.floats(), st.text(max_size=3)),
    run_after=st.one_of(
        st.none(),
        st.datetimes(timezones=st.timezones()),
        st.datetimes(),
        st.timedeltas(min_value=dt.timedelta(days=-3), max_value=dt.timedelta(days=3)),
        TEXT,
    ),
)
def test_any_queue_priority_and_time_enqueue_and_round_trip_or_are_refused(
    queue, priority, run_after
):
    before = Job.objects.count()
    try:
        task = tasks.noop.using(queue_name=queue, priority=priority, run_after=run_after)
        result = task.enqueue()
    except InvalidTask as exc:
        assert any(word in str(exc) for word in ("queue", "priority", "run_after")), exc
        assert Job.objects.count() == before
        return
    stored = default_task_backend.get_result(result.id).task
    assert stored.queue_name == (queue if queue is not None else "default")
    if priority is not None and not isinstance(priority, bool):
        assert stored.priority == priority
    if isinstance(run_after, dt.datetime):
        assert stored.run_after == run_after.astimezone(dt.UTC)
