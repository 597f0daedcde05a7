"""Django's own ``tests/tasks`` suite, re-expressed against SolidQueueBackend.

Django tests its task API with the Dummy backend (stores results, never runs them) and the
Immediate backend (runs each task inside ``enqueue``). A database backend behaves like the
Dummy one at enqueue time and like the Immediate one once a worker has performed the job, so
each ported test enqueues, then (where Django expects an outcome) runs the job the way a
worker does with ``perform_enqueued_jobs()``, then checks the result the backend returns.

Ported from (Django's tests/tasks/):

* ``test_tasks.py`` (TaskTestCase): task decorator, enqueue/aenqueue, invalid arguments,
  ``using()`` (priority, queue_name, run_after, backend, chaining, copies), unknown and missing
  backends, refresh/arefresh, naive run_after, priority bounds, unknown queue names,
  call/acall, get_result/aget_result, missing results, TaskResultMismatch, non module-level
  functions, get_backend, name, module_path, pickling tasks and results, no backends,
  TaskError.exception_class, takes_context without ``context``, run_after in ``@task``.
* ``test_immediate_backend.py``: outcomes once performed (success, async tasks, exceptions
  including SystemExit, KeyboardInterrupt propagating, complex exception, return value that
  cannot be stored, return values), logs, TaskContext, validation at (a)enqueue, and the
  transaction test (re-expressed as database semantics).
* ``test_dummy_backend.py``: the state right after enqueue, get_result/aget_result,
  refresh/arefresh after the job ran, missing results, enqueue logs, errors, disallowed async
  tasks, ``check()``, takes_context, validation at (a)enqueue, transaction test.
* Signals (Django checks them through the ``django.tasks`` log receivers of the tests above):
  task_enqueued, task_started, task_finished, with their results, including failed ones.

Left out, and why:

* test_tasks: ``test_task_result_comparability_in_priority_queue``, ``test_task_result_equality*``,
  ``test_task_result_hash*``, ``test_task_result_lt*``: TaskResult ordering and hashing were
  added to Django after 6.1 (the installed Django 6.1.3 has neither); nothing to conform to.
* test_immediate_backend: ``test_cannot_get_result``, ``test_cannot_refresh_result``,
  ``test_cannot_pass_run_after``: they check features the Immediate backend lacks, which this
  backend has (get_result, refresh and run_after are tested positively here instead).
  ``test_using_correct_backend`` is ported with this backend's class.
* test_dummy_backend: ``test_clear``: ``DummyBackend.clear()`` is an API of that backend only.
  ``default_task_backend.results`` assertions become get_result() look-ups.
* test_custom_backend.py: it tests Django's BaseTaskBackend with ad-hoc backend classes
  (OPTIONS handling, missing ``enqueue``, no priority support); none of it is about this
  backend, which takes no OPTIONS and supports priority.
* test_metadata.py: task metadata is not in Django 6.1.3 (``Task.using(metadata=...)`` does
  not exist there).
* test_utils.py and is_module_level_function fixtures: they test django.utils helpers, not a
  backend; the module-level rule itself is ported (``test_invalid_function``).
"""

from __future__ import annotations

import dataclasses
import logging
import pickle
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction
from django.dispatch import Signal
from django.tasks import (
    DEFAULT_TASK_QUEUE_NAME,
    TaskResult,
    TaskResultStatus,
    default_task_backend,
    task,
    task_backends,
)
from django.tasks.backends.immediate import ImmediateBackend
from django.tasks.base import TASK_MAX_PRIORITY, TASK_MIN_PRIORITY, Task
from django.tasks.exceptions import (
    InvalidTask,
    InvalidTaskBackend,
    TaskResultDoesNotExist,
    TaskResultMismatch,
)
from django.tasks.signals import task_enqueued, task_finished, task_started
from django.utils import timezone
from django.utils.module_loading import import_string

from django_solidq.backend import SolidQueueBackend
from django_solidq.conf import queue_database
from django_solidq.tasks import SolidTask
from django_solidq.testing import TEST_WORKER, perform_enqueued_jobs
from tests.app import django_tasks as test_tasks

SOLIDQ = "django_solidq.backend.SolidQueueBackend"
PRIORITY_MESSAGE = (
    f"priority must be a whole number between {TASK_MIN_PRIORITY} and {TASK_MAX_PRIORITY}."
)


def run(coroutine_function: Callable[[], Any]) -> Any:
    """Run an async test body (no asyncio plugin here); its ORM calls share the test's DB."""
    return async_to_sync(coroutine_function)()


def perform_one() -> TaskResult:
    """Perform the (single) ready job the way a worker does and return its final result."""
    results = perform_enqueued_jobs()
    assert len(results) == 1, results
    return results[0]


def django_tasks_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "django.tasks"]


@contextmanager
def receiving(signal: Signal) -> Iterator[list[tuple[Any, TaskResult]]]:
    """Collect ``(sender, task_result)`` for every send of ``signal`` within the block."""
    received: list[tuple[Any, TaskResult]] = []

    def receiver(sender: Any, task_result: TaskResult, **kwargs: Any) -> None:
        received.append((sender, task_result))

    signal.connect(receiver, weak=False)
    try:
        yield received
    finally:
        signal.disconnect(receiver)


def assert_finished_in_order(result: TaskResult) -> None:
    assert result.is_finished is True
    assert result.enqueued_at is not None
    assert result.started_at is not None
    assert result.last_attempted_at is not None
    assert result.finished_at is not None
    assert result.started_at >= result.enqueued_at
    assert result.finished_at >= result.started_at


@pytest.fixture
def tasks_test_settings(settings: Any) -> Any:
    """Django's TaskTestCase settings, with this backend in the Dummy backend's place."""
    settings.USE_TZ = True
    settings.TASKS = {
        "default": {"BACKEND": SOLIDQ, "QUEUES": ["default", "queue_1"]},
        "other": {"BACKEND": SOLIDQ, "QUEUES": []},
        "immediate": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": []},
        "missing": {"BACKEND": "does.not.exist"},
    }
    return settings


# --- test_tasks.py (TaskTestCase) --------------------------------------------------------


class TestTasks:
    @pytest.fixture(autouse=True)
    def _settings(self, tasks_test_settings: Any) -> None:
        pass

    def test_using_correct_backend(self) -> None:
        assert default_task_backend == task_backends["default"]
        assert isinstance(task_backends["default"], SolidQueueBackend)

    def test_task_decorator(self) -> None:
        for t in (
            test_tasks.noop_task,
            test_tasks.noop_task_async,
            test_tasks.noop_task_from_bare_decorator,
        ):
            assert isinstance(t, Task)
            # The backend's task_class.
            assert isinstance(t, SolidTask)

    @pytest.mark.django_db
    def test_enqueue_task(self) -> None:
        result = test_tasks.noop_task.enqueue()

        assert result.status == TaskResultStatus.READY
        assert result.task == test_tasks.noop_task
        assert result.args == []
        assert result.kwargs == {}
        assert default_task_backend.get_result(result.id) == result

    @pytest.mark.django_db
    def test_enqueue_task_async(self) -> None:
        async def body() -> TaskResult:
            return await test_tasks.noop_task.aenqueue()

        result = run(body)

        assert result.status == TaskResultStatus.READY
        assert result.task == test_tasks.noop_task
        assert result.args == []
        assert result.kwargs == {}
        assert default_task_backend.get_result(result.id) == result

    @pytest.mark.django_db
    def test_enqueue_with_invalid_argument(self) -> None:
        with pytest.raises(TypeError, match="Unsupported type"):
            test_tasks.noop_task.enqueue(datetime.now())

    @pytest.mark.django_db
    def test_aenqueue_with_invalid_argument(self) -> None:
        async def body() -> None:
            await test_tasks.noop_task.aenqueue(datetime.now())

        with pytest.raises(TypeError, match="Unsupported type"):
            run(body)

    def test_using_priority(self) -> None:
        assert test_tasks.noop_task.priority == 0
        assert test_tasks.noop_task.using(priority=1).priority == 1
        assert test_tasks.noop_task.priority == 0

    def test_using_queue_name(self) -> None:
        assert test_tasks.noop_task.queue_name == DEFAULT_TASK_QUEUE_NAME
        assert test_tasks.noop_task.using(queue_name="queue_1").queue_name == "queue_1"
        assert test_tasks.noop_task.queue_name == DEFAULT_TASK_QUEUE_NAME

    def test_using_run_after(self) -> None:
        now = timezone.now()

        assert test_tasks.noop_task.run_after is None
        assert test_tasks.noop_task.using(run_after=now).run_after == now
        assert test_tasks.noop_task.run_after is None

    def test_using_run_after_timedelta(self) -> None:
        # This backend's extension: a timedelta means that long from now.
        before = timezone.now()
        delayed = test_tasks.noop_task.using(run_after=timedelta(minutes=5))
        after = timezone.now()

        assert isinstance(delayed, SolidTask)
        assert delayed.run_after is not None
        assert timezone.is_aware(delayed.run_after)
        assert before + timedelta(minutes=5) <= delayed.run_after <= after + timedelta(minutes=5)
        assert test_tasks.noop_task.run_after is None

    def test_using_unknown_backend(self) -> None:
        assert test_tasks.noop_task.backend == "default"

        with pytest.raises(
            InvalidTaskBackend, match=re.escape("The connection 'unknown' doesn't exist.")
        ):
            test_tasks.noop_task.using(backend="unknown")

    def test_using_missing_backend(self) -> None:
        assert test_tasks.noop_task.backend == "default"

        with pytest.raises(
            InvalidTaskBackend,
            match=re.escape("Could not find backend 'does.not.exist': No module named 'does'"),
        ):
            test_tasks.noop_task.using(backend="missing")

    def test_using_creates_new_instance(self) -> None:
        new_task = test_tasks.noop_task.using()

        assert new_task == test_tasks.noop_task
        assert new_task is not test_tasks.noop_task

    def test_chained_using(self) -> None:
        now = timezone.now()

        run_after_task = test_tasks.noop_task.using(run_after=now)
        assert run_after_task.run_after == now

        priority_task = run_after_task.using(priority=10)
        assert priority_task.priority == 10
        assert priority_task.run_after == now

        assert run_after_task.priority == 0

    @pytest.mark.django_db
    def test_refresh_result(self) -> None:
        result = test_tasks.noop_task.enqueue()
        original = dataclasses.asdict(result)

        result.refresh()
        assert dataclasses.asdict(result) == original

        async def body() -> None:
            await result.arefresh()

        run(body)
        assert dataclasses.asdict(result) == original

    def test_naive_datetime(self) -> None:
        with pytest.raises(InvalidTask, match=re.escape("run_after must be an aware datetime.")):
            test_tasks.noop_task.using(run_after=datetime.now())

    @pytest.mark.django_db
    def test_naive_datetime_rejected_at_enqueue(self, settings: Any) -> None:
        # A task made valid (USE_TZ off) and enqueued once USE_TZ is on.
        settings.USE_TZ = False
        naive = test_tasks.noop_task.using(run_after=datetime.now())
        settings.USE_TZ = True
        with pytest.raises(InvalidTask, match=re.escape("run_after must be an aware datetime.")):
            naive.enqueue()

    @pytest.mark.parametrize("priority", [-101, 101, 3.1, TASK_MIN_PRIORITY - 1000])
    def test_invalid_priority(self, priority: Any) -> None:
        with pytest.raises(InvalidTask, match=re.escape(PRIORITY_MESSAGE)):
            test_tasks.noop_task.using(priority=priority)

    @pytest.mark.django_db
    @pytest.mark.parametrize("priority", [TASK_MAX_PRIORITY, TASK_MIN_PRIORITY, 0])
    def test_valid_priority_bounds_are_stored(self, priority: int) -> None:
        result = test_tasks.noop_task.using(priority=priority).enqueue()

        stored = test_tasks.noop_task.get_result(result.id)
        assert stored.task.priority == priority
        assert perform_one().status == TaskResultStatus.SUCCESSFUL

    @pytest.mark.django_db
    def test_higher_priority_runs_first(self) -> None:
        low = test_tasks.noop_task.using(priority=TASK_MIN_PRIORITY).enqueue()
        high = test_tasks.noop_task.using(priority=TASK_MAX_PRIORITY).enqueue()
        middle = test_tasks.noop_task.enqueue()

        assert [r.id for r in perform_enqueued_jobs()] == [high.id, middle.id, low.id]

    def test_unknown_queue_name(self) -> None:
        with pytest.raises(
            InvalidTask, match=re.escape("Queue 'queue-2' is not valid for backend.")
        ):
            test_tasks.noop_task.using(queue_name="queue-2")
        # Validation is bypassed when the backend's QUEUES is an empty list.
        assert test_tasks.noop_task.using(queue_name="queue-2", backend="other").queue_name == (
            "queue-2"
        )

    def test_call_task(self) -> None:
        assert test_tasks.calculate_meaning_of_life.call() == 42

    def test_call_task_async(self) -> None:
        async def body() -> Any:
            return await test_tasks.calculate_meaning_of_life.acall()

        assert run(body) == 42

    def test_call_async_task(self) -> None:
        async def body() -> Any:
            return await test_tasks.noop_task_async.acall()

        assert run(body) is None

    def test_call_async_task_sync(self) -> None:
        assert test_tasks.noop_task_async.call() is None

    @pytest.mark.django_db
    def test_get_result(self) -> None:
        result = default_task_backend.enqueue(test_tasks.noop_task, (), {})

        new_result = test_tasks.noop_task.get_result(result.id)

        assert new_result == result
        assert new_result is not result

    @pytest.mark.django_db
    def test_get_result_async(self) -> None:
        async def body() -> tuple[TaskResult, TaskResult]:
            result = await default_task_backend.aenqueue(test_tasks.noop_task, (), {})
            return result, await test_tasks.noop_task.aget_result(result.id)

        result, new_result = run(body)
        assert new_result == result

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        "result_id", ["123", 123, "not-a-uuid", "00000000-0000-0000-0000-000000000000"]
    )
    def test_get_missing_result(self, result_id: Any) -> None:
        with pytest.raises(TaskResultDoesNotExist):
            test_tasks.noop_task.get_result(result_id)

        async def body() -> None:
            await test_tasks.noop_task.aget_result(result_id)

        with pytest.raises(TaskResultDoesNotExist):
            run(body)

    @pytest.mark.django_db
    def test_get_incorrect_result(self) -> None:
        result = default_task_backend.enqueue(test_tasks.noop_task_async, (), {})
        with pytest.raises(TaskResultMismatch, match="Task does not match"):
            test_tasks.noop_task.get_result(result.id)

    @pytest.mark.django_db
    def test_get_incorrect_result_async(self) -> None:
        async def body() -> None:
            result = await default_task_backend.aenqueue(test_tasks.noop_task_async, (), {})
            await test_tasks.noop_task.aget_result(result.id)

        with pytest.raises(TaskResultMismatch, match="Task does not match"):
            run(body)

    def test_invalid_function(self) -> None:
        def nested() -> None:
            pass

        for invalid_function in (any, self.test_invalid_function, nested, lambda: None):
            with pytest.raises(
                InvalidTask, match=re.escape("Task function must be defined at a module level.")
            ):
                task()(invalid_function)

    def test_get_backend(self) -> None:
        assert test_tasks.noop_task.backend == "default"
        assert isinstance(test_tasks.noop_task.get_backend(), SolidQueueBackend)

        immediate_task = test_tasks.noop_task.using(backend="immediate")
        assert immediate_task.backend == "immediate"
        assert isinstance(immediate_task.get_backend(), ImmediateBackend)

    @pytest.mark.django_db
    def test_using_backend(self) -> None:
        # Another alias of this backend: the job records it and only that alias finds it.
        result = test_tasks.calculate_meaning_of_life.using(backend="other").enqueue()

        assert result.backend == "other"
        assert result.task.backend == "other"
        with pytest.raises(TaskResultDoesNotExist):
            task_backends["default"].get_result(result.id)
        assert task_backends["other"].get_result(result.id) == result

        performed = perform_one()
        assert performed.backend == "other"
        assert performed.return_value == 42
        result.refresh()
        assert result.status == TaskResultStatus.SUCCESSFUL
        assert result.return_value == 42

    def test_name(self) -> None:
        assert test_tasks.noop_task.name == "noop_task"
        assert test_tasks.noop_task_async.name == "noop_task_async"

    def test_module_path(self) -> None:
        assert test_tasks.noop_task.module_path == "tests.app.django_tasks.noop_task"
        assert test_tasks.noop_task_async.module_path == "tests.app.django_tasks.noop_task_async"
        assert import_string(test_tasks.noop_task.module_path) is test_tasks.noop_task
        assert import_string(test_tasks.noop_task_async.module_path) is test_tasks.noop_task_async

    def test_pickle_task(self) -> None:
        for t in (
            test_tasks.noop_task,
            test_tasks.noop_task.using(priority=5, queue_name="queue_1"),
        ):
            unpickled = pickle.loads(pickle.dumps(t))
            assert unpickled == t
            assert type(unpickled) is SolidTask

    def test_unpickle_arbitrary_string(self) -> None:
        with pytest.raises(
            ValueError,
            match=re.escape("Expected 'does.not.exist.fake_task' to point to a Task instance."),
        ):
            SolidTask._reconstruct({"func": "does.not.exist.fake_task"})

    def test_unpickle_non_task_object(self) -> None:
        with pytest.raises(
            ValueError, match=re.escape("Expected 'builtins.any' to point to a Task instance.")
        ):
            SolidTask._reconstruct({"func": "builtins.any"})

    @pytest.mark.django_db
    def test_pickle_task_result(self) -> None:
        result = test_tasks.noop_task.enqueue()
        assert pickle.loads(pickle.dumps(result)) == result

        test_tasks.calculate_meaning_of_life.enqueue()
        finished = perform_enqueued_jobs()[-1]
        unpickled = pickle.loads(pickle.dumps(finished))
        assert unpickled == finished
        assert unpickled.return_value == 42

    def test_no_backends(self, settings: Any) -> None:
        settings.TASKS = {}
        with pytest.raises(InvalidTaskBackend):
            test_tasks.noop_task.enqueue()

    @pytest.mark.django_db
    def test_task_error_invalid_exception(self) -> None:
        test_tasks.failing_task_value_error.enqueue()
        result = perform_one()
        assert len(result.errors) == 1
        assert result.errors[0].exception_class is ValueError

        object.__setattr__(result.errors[0], "exception_class_path", "subprocess.run")
        with pytest.raises(
            ValueError, match=re.escape("'subprocess.run' does not reference a valid exception.")
        ):
            _ = result.errors[0].exception_class

    @pytest.mark.django_db
    def test_task_error_unknown_module(self) -> None:
        test_tasks.failing_task_value_error.enqueue()
        result = perform_one()
        assert len(result.errors) == 1

        object.__setattr__(result.errors[0], "exception_class_path", "does.not.exist")
        with pytest.raises(ImportError):
            _ = result.errors[0].exception_class

    def test_takes_context_without_taking_context(self) -> None:
        with pytest.raises(
            InvalidTask,
            match=re.escape("Task takes context but does not have a first argument of 'context'."),
        ):
            task(takes_context=True)(test_tasks.calculate_meaning_of_life.func)

    def test_run_after_in_decorator(self) -> None:
        with pytest.raises(
            TypeError,
            match=re.escape("run_after cannot be defined statically with the @task decorator."),
        ):
            task(run_after=timezone.now())(test_tasks.calculate_meaning_of_life.func)


# --- test_dummy_backend.py: the state right after enqueue ---------------------------------


class TestEnqueuedState:
    def test_using_correct_backend(self) -> None:
        assert default_task_backend == task_backends["default"]
        assert isinstance(task_backends["default"], SolidQueueBackend)
        assert default_task_backend.alias == "default"
        assert default_task_backend.options == {}

    @pytest.mark.django_db
    @pytest.mark.parametrize("t", [test_tasks.noop_task, test_tasks.noop_task_async])
    def test_enqueue_task(self, t: Task) -> None:
        result = t.enqueue(1, two=3)
        self._assert_enqueued(result, t, [1], {"two": 3})
        assert t.get_result(result.id) == result

    @pytest.mark.django_db
    @pytest.mark.parametrize("t", [test_tasks.noop_task, test_tasks.noop_task_async])
    def test_enqueue_task_async(self, t: Task) -> None:
        async def body() -> TaskResult:
            return await t.aenqueue()

        result = run(body)
        self._assert_enqueued(result, t, [], {})
        assert t.get_result(result.id) == result

    @staticmethod
    def _assert_enqueued(
        result: TaskResult, t: Task, args: list[Any], kwargs: dict[str, Any]
    ) -> None:
        assert result.status == TaskResultStatus.READY
        assert result.is_finished is False
        assert result.enqueued_at is not None
        assert result.started_at is None
        assert result.last_attempted_at is None
        assert result.finished_at is None
        with pytest.raises(ValueError, match="Task has not finished yet"):
            _ = result.return_value
        assert result.task == t
        assert result.args == args
        assert result.kwargs == kwargs
        assert result.attempts == 0
        assert result.worker_ids == []
        assert result.errors == []
        assert result.backend == "default"

    @pytest.mark.django_db
    def test_get_result(self) -> None:
        result = default_task_backend.enqueue(test_tasks.noop_task, (), {})
        assert default_task_backend.get_result(result.id) == result

    @pytest.mark.django_db
    def test_get_result_async(self) -> None:
        async def body() -> tuple[TaskResult, TaskResult]:
            result = await default_task_backend.aenqueue(test_tasks.noop_task, (), {})
            return result, await default_task_backend.aget_result(result.id)

        result, new_result = run(body)
        assert new_result == result

    @pytest.mark.django_db
    def test_refresh_result(self) -> None:
        result = default_task_backend.enqueue(test_tasks.calculate_meaning_of_life, (), {})
        perform_enqueued_jobs()

        assert result.status == TaskResultStatus.READY
        result.refresh()
        assert result.status == TaskResultStatus.SUCCESSFUL
        assert result.return_value == 42
        assert result.worker_ids == [TEST_WORKER]
        assert_finished_in_order(result)

    @pytest.mark.django_db
    def test_refresh_result_async(self) -> None:
        async def enqueue() -> TaskResult:
            return await default_task_backend.aenqueue(test_tasks.calculate_meaning_of_life, (), {})

        result = run(enqueue)
        perform_enqueued_jobs()

        assert result.status == TaskResultStatus.READY

        async def refresh() -> None:
            await result.arefresh()

        run(refresh)
        assert result.status == TaskResultStatus.SUCCESSFUL
        assert result.return_value == 42
        assert_finished_in_order(result)

    @pytest.mark.django_db
    def test_get_missing_result(self) -> None:
        with pytest.raises(TaskResultDoesNotExist):
            default_task_backend.get_result("123")

        async def body() -> None:
            await default_task_backend.aget_result("123")

        with pytest.raises(TaskResultDoesNotExist):
            run(body)

    @pytest.mark.django_db
    def test_enqueue_logs(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG, logger="django.tasks")
        result = test_tasks.noop_task.enqueue()

        records = django_tasks_records(caplog)
        assert len(records) == 1
        assert "enqueued" in records[0].getMessage()
        assert result.id in records[0].getMessage()

    @pytest.mark.django_db
    def test_errors(self) -> None:
        assert test_tasks.noop_task.enqueue().errors == []

    def test_validate_disallowed_async_task(self) -> None:
        with mock.patch.multiple(default_task_backend, supports_async_task=False):
            with pytest.raises(
                InvalidTask, match=re.escape("Backend does not support async Tasks.")
            ):
                default_task_backend.validate_task(test_tasks.noop_task_async)

    def test_check(self) -> None:
        errors = list(default_task_backend.check())
        assert errors == []

    @pytest.mark.django_db
    def test_takes_context(self) -> None:
        assert test_tasks.get_task_id.enqueue().status == TaskResultStatus.READY

    @pytest.mark.django_db
    def test_run_after_in_the_future_waits(self) -> None:
        # Unlike Dummy/Immediate, this backend supports run_after (supports_defer).
        for delayed in (
            test_tasks.calculate_meaning_of_life.using(
                run_after=timezone.now() + timedelta(hours=1)
            ),
            test_tasks.calculate_meaning_of_life.using(run_after=timedelta(hours=1)),
        ):
            result = delayed.enqueue()
            assert result.status == TaskResultStatus.READY
            assert result.task.run_after == delayed.run_after

        assert perform_enqueued_jobs() == []
        performed = perform_enqueued_jobs(include_scheduled=True)
        assert [r.status for r in performed] == [TaskResultStatus.SUCCESSFUL] * 2
        assert [r.return_value for r in performed] == [42, 42]

    @pytest.mark.django_db
    def test_validate_on_enqueue(self, settings: Any) -> None:
        task_with_custom_queue_name = test_tasks.noop_task.using(queue_name="unknown_queue")

        settings.TASKS = {"default": {"BACKEND": SOLIDQ, "QUEUES": ["queue-1"]}}
        with pytest.raises(InvalidTask, match="Queue 'unknown_queue' is not valid for backend"):
            task_with_custom_queue_name.enqueue()

    @pytest.mark.django_db
    def test_validate_on_aenqueue(self, settings: Any) -> None:
        task_with_custom_queue_name = test_tasks.noop_task.using(queue_name="unknown_queue")

        settings.TASKS = {"default": {"BACKEND": SOLIDQ, "QUEUES": ["queue-1"]}}

        async def body() -> None:
            await task_with_custom_queue_name.aenqueue()

        with pytest.raises(InvalidTask, match="Queue 'unknown_queue' is not valid for backend"):
            run(body)


# --- test_immediate_backend.py: the outcome once a worker performed the job -----------------


class TestPerformed:
    @pytest.mark.django_db
    @pytest.mark.parametrize("t", [test_tasks.noop_task, test_tasks.noop_task_async])
    def test_enqueue_task(self, t: Task) -> None:
        enqueued = t.enqueue(1, two=3)
        result = perform_one()

        assert result.id == enqueued.id
        assert result.status == TaskResultStatus.SUCCESSFUL
        assert_finished_in_order(result)
        assert result.return_value is None
        assert result.task == t
        assert result.args == [1]
        assert result.kwargs == {"two": 3}
        assert result.attempts == 1
        assert result.worker_ids == [TEST_WORKER]
        assert result.errors == []
        assert t.get_result(result.id) == result

    @pytest.mark.django_db
    @pytest.mark.parametrize("t", [test_tasks.noop_task, test_tasks.noop_task_async])
    def test_enqueue_task_async(self, t: Task) -> None:
        async def body() -> TaskResult:
            return await t.aenqueue()

        run(body)
        result = perform_one()

        assert result.status == TaskResultStatus.SUCCESSFUL
        assert_finished_in_order(result)
        assert result.return_value is None
        assert result.task == t
        assert result.args == []
        assert result.kwargs == {}
        assert result.attempts == 1

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        ("t", "exception", "message"),
        [
            (test_tasks.failing_task_value_error, ValueError, "This Task failed due to ValueError"),
            (test_tasks.failing_task_system_exit, SystemExit, "This Task failed due to SystemExit"),
        ],
        ids=["ValueError", "SystemExit"],
    )
    def test_catches_exception(
        self,
        t: Task,
        exception: type[BaseException],
        message: str,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.DEBUG, logger="django.tasks")
        enqueued = t.enqueue()
        result = perform_one()

        errors_logged = [r for r in django_tasks_records(caplog) if r.levelno >= logging.ERROR]
        assert len(errors_logged) == 1
        assert "state=FAILED" in errors_logged[0].getMessage()
        assert message in caplog.text

        for failed in (result, t.get_result(enqueued.id)):
            assert failed.status == TaskResultStatus.FAILED
            with pytest.raises(ValueError, match="Task failed"):
                _ = failed.return_value
            assert_finished_in_order(failed)
            assert failed.attempts == 1
            assert len(failed.errors) == 1
            assert failed.errors[0].exception_class is exception
            assert failed.errors[0].exception_class_path == (
                f"{exception.__module__}.{exception.__qualname__}"
            )
            traceback = failed.errors[0].traceback
            assert traceback.endswith(f"{exception.__name__}: {message}\n"), traceback
            # The traceback shows where the task raised.
            assert f"raise {exception.__name__}(" in traceback
            assert failed.task == t
            assert failed.args == []
            assert failed.kwargs == {}

    @pytest.mark.django_db
    def test_throws_keyboard_interrupt(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG, logger="django.tasks")
        test_tasks.failing_task_keyboard_interrupt.enqueue()

        with pytest.raises(KeyboardInterrupt):
            perform_enqueued_jobs()
        assert not [r for r in django_tasks_records(caplog) if r.levelno >= logging.ERROR]

    @pytest.mark.django_db
    def test_complex_exception(self) -> None:
        enqueued = test_tasks.complex_exception.enqueue()
        result = perform_one()

        assert result.id == enqueued.id
        assert result.status == TaskResultStatus.FAILED
        with pytest.raises(ValueError, match="Task failed"):
            _ = result.return_value
        assert_finished_in_order(result)
        assert result._return_value is None
        assert result.errors[0].exception_class is ValueError
        assert 'ValueError(ValueError("This task failed"))' in result.errors[0].traceback
        assert result.task == test_tasks.complex_exception
        assert result.args == []
        assert result.kwargs == {}

    @pytest.mark.django_db
    def test_complex_return_value(self) -> None:
        enqueued = test_tasks.complex_return_value.enqueue()
        result = perform_one()

        for failed in (result, test_tasks.complex_return_value.get_result(enqueued.id)):
            assert failed.status == TaskResultStatus.FAILED
            assert_finished_in_order(failed)
            assert failed._return_value is None
            # Django records a TypeError; this backend's ArgumentNotSerializable is one.
            assert issubclass(failed.errors[0].exception_class, TypeError)
            assert "Unsupported type" in failed.errors[0].traceback

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        "t", [test_tasks.calculate_meaning_of_life, test_tasks.calculate_meaning_of_life_async]
    )
    def test_result(self, t: Task) -> None:
        enqueued = default_task_backend.enqueue(t, [], {})
        result = perform_one()

        assert result.status == TaskResultStatus.SUCCESSFUL
        assert result.return_value == 42
        assert t.get_result(enqueued.id).return_value == 42

    @pytest.mark.django_db
    def test_result_async(self) -> None:
        async def enqueue() -> TaskResult:
            return await default_task_backend.aenqueue(test_tasks.calculate_meaning_of_life, [], {})

        enqueued = run(enqueue)
        result = perform_one()
        assert result.status == TaskResultStatus.SUCCESSFUL
        assert result.return_value == 42

        async def fetch() -> TaskResult:
            return await test_tasks.calculate_meaning_of_life.aget_result(enqueued.id)

        assert run(fetch).return_value == 42

    @pytest.mark.django_db
    def test_enqueue_logs(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG, logger="django.tasks")
        result = test_tasks.noop_task.enqueue()
        perform_enqueued_jobs()

        messages = [r.getMessage() for r in django_tasks_records(caplog)]
        assert len(messages) == 3, messages
        assert "enqueued" in messages[0]
        assert "state=RUNNING" in messages[1]
        assert "state=SUCCESSFUL" in messages[2]
        assert all(result.id in message for message in messages)

    @pytest.mark.django_db
    def test_failed_logs(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG, logger="django.tasks")
        result = test_tasks.failing_task_value_error.enqueue()
        perform_enqueued_jobs()

        records = django_tasks_records(caplog)
        assert len(records) == 3, [r.getMessage() for r in records]
        assert "state=RUNNING" in records[1].getMessage()
        assert result.id in records[1].getMessage()
        assert "state=FAILED" in records[2].getMessage()
        assert result.id in records[2].getMessage()
        assert records[2].levelno == logging.ERROR
        # Sent from the exception handler, so the log carries the task's exception.
        assert records[2].exc_info is not None
        assert records[2].exc_info[0] is ValueError

    @pytest.mark.django_db
    def test_takes_context(self) -> None:
        enqueued = test_tasks.get_task_id.enqueue()
        result = perform_one()

        assert result.status == TaskResultStatus.SUCCESSFUL
        assert result.return_value == enqueued.id

    @pytest.mark.django_db
    def test_context(self) -> None:
        test_tasks.check_context.enqueue(1)
        result = perform_one()
        assert result.status == TaskResultStatus.SUCCESSFUL, result.errors

    @pytest.mark.django_db
    def test_context_describes_running_attempt(self) -> None:
        enqueued = test_tasks.describe_context.enqueue()
        seen = perform_one().return_value

        assert seen == {
            "id": enqueued.id,
            "status": "RUNNING",
            "attempt": 1,
            "worker_ids": [TEST_WORKER],
            "started": True,
            "last_attempted": True,
            "finished": False,
            "args": [],
            "kwargs": {},
        }

    @pytest.mark.django_db
    def test_get_result_while_running(self) -> None:
        test_tasks.stored_state_while_running.enqueue()
        result = perform_one()

        assert result.status == TaskResultStatus.SUCCESSFUL, result.errors
        assert result.return_value == {
            "running": True,
            "is_finished": False,
            "started": True,
            "last_attempted": True,
            "finished": False,
            "attempts": 1,
        }

    @pytest.mark.django_db
    def test_validate_on_enqueue(self, settings: Any) -> None:
        task_with_custom_queue_name = test_tasks.noop_task.using(queue_name="unknown_queue")

        settings.TASKS = {"default": {"BACKEND": SOLIDQ, "QUEUES": ["queue-1"]}}
        with pytest.raises(InvalidTask, match="Queue 'unknown_queue' is not valid for backend"):
            task_with_custom_queue_name.enqueue()
        assert perform_enqueued_jobs() == []


@pytest.mark.django_db(transaction=True)
class TestTransactions:
    """Django's ``*TransactionTestCase.test_doesnt_wait_until_transaction_commit_by_default``.

    Dummy and Immediate act at once inside ``atomic()``. Here the job is a row written in the
    caller's transaction: the result comes back at once, the job lives or dies with the commit.
    """

    def test_enqueue_inside_atomic_returns_result_at_once(self) -> None:
        with transaction.atomic(using=queue_database()):
            result = test_tasks.noop_task.enqueue()
            assert result.enqueued_at is not None
            assert result.status == TaskResultStatus.READY

        assert test_tasks.noop_task.get_result(result.id) == result
        assert perform_one().status == TaskResultStatus.SUCCESSFUL

    def test_rolled_back_enqueue_leaves_no_job(self) -> None:
        with pytest.raises(RuntimeError), transaction.atomic(using=queue_database()):
            result = test_tasks.noop_task.enqueue()
            raise RuntimeError("roll back")

        with pytest.raises(TaskResultDoesNotExist):
            test_tasks.noop_task.get_result(result.id)
        assert perform_enqueued_jobs() == []


# --- Signals --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
class TestSignals:
    def test_task_enqueued(self) -> None:
        with receiving(task_enqueued) as enqueued:
            result = test_tasks.noop_task.enqueue(1, two=3)

        assert len(enqueued) == 1
        sender, sent = enqueued[0]
        assert sender is SolidQueueBackend
        assert sent.id == result.id
        assert sent.status == TaskResultStatus.READY
        assert sent.task == test_tasks.noop_task
        assert sent.args == [1]
        assert sent.kwargs == {"two": 3}
        assert sent.enqueued_at is not None

    def test_task_enqueued_async(self) -> None:
        async def body() -> TaskResult:
            return await test_tasks.noop_task.aenqueue()

        with receiving(task_enqueued) as enqueued:
            result = run(body)

        assert [(sender, sent.id) for sender, sent in enqueued] == [(SolidQueueBackend, result.id)]

    def test_invalid_task_sends_nothing(self, settings: Any) -> None:
        settings.TASKS = {"default": {"BACKEND": SOLIDQ, "QUEUES": ["queue-1"]}}
        with receiving(task_enqueued) as enqueued:
            with pytest.raises(InvalidTask):
                test_tasks.noop_task.enqueue()
            with pytest.raises(TypeError):
                test_tasks.noop_task.using(queue_name="queue-1").enqueue(datetime.now())
        assert enqueued == []

    def test_started_and_finished_on_success(self) -> None:
        result = test_tasks.calculate_meaning_of_life.enqueue()

        with receiving(task_started) as started, receiving(task_finished) as finished:
            performed = perform_one()

        assert len(started) == 1
        sender, running = started[0]
        assert sender is SolidQueueBackend
        assert running.id == result.id
        assert running.status == TaskResultStatus.RUNNING
        assert running.started_at is not None
        assert running.last_attempted_at is not None
        assert running.finished_at is None
        assert running.attempts == 1
        assert running.task == test_tasks.calculate_meaning_of_life

        assert len(finished) == 1
        sender, done = finished[0]
        assert sender is SolidQueueBackend
        assert done.id == result.id
        assert done.status == TaskResultStatus.SUCCESSFUL
        assert done.return_value == 42
        assert done.errors == []
        assert done.attempts == 1
        assert_finished_in_order(done)
        assert done == performed
        assert done == test_tasks.calculate_meaning_of_life.get_result(result.id)

    def test_started_and_finished_on_failure(self) -> None:
        result = test_tasks.failing_task_value_error.enqueue()

        with receiving(task_started) as started, receiving(task_finished) as finished:
            perform_enqueued_jobs()

        assert [(s, r.id, r.status) for s, r in started] == [
            (SolidQueueBackend, result.id, TaskResultStatus.RUNNING)
        ]
        assert len(finished) == 1
        sender, done = finished[0]
        assert sender is SolidQueueBackend
        assert done.id == result.id
        assert done.status == TaskResultStatus.FAILED
        assert_finished_in_order(done)
        assert len(done.errors) == 1
        assert done.errors[0].exception_class is ValueError
        assert "This Task failed due to ValueError" in done.errors[0].traceback
        with pytest.raises(ValueError, match="Task failed"):
            _ = done.return_value
        assert done == test_tasks.failing_task_value_error.get_result(result.id)

    def test_signal_order(self) -> None:
        order: list[tuple[str, str]] = []

        def recorder(name: str) -> Callable[..., None]:
            def receive(sender: Any, task_result: TaskResult, **kwargs: Any) -> None:
                order.append((name, str(task_result.status)))

            return receive

        receivers = {
            task_enqueued: recorder("enqueued"),
            task_started: recorder("started"),
            task_finished: recorder("finished"),
        }
        for signal, receiver in receivers.items():
            signal.connect(receiver, weak=False)
        try:
            test_tasks.noop_task.enqueue()
            test_tasks.failing_task_value_error.enqueue()
            perform_enqueued_jobs()
        finally:
            for signal, receiver in receivers.items():
                signal.disconnect(receiver)

        assert order == [
            ("enqueued", "READY"),
            ("enqueued", "READY"),
            ("started", "RUNNING"),
            ("finished", "SUCCESSFUL"),
            ("started", "RUNNING"),
            ("finished", "FAILED"),
        ]
