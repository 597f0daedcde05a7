"""Middleware and per-task hooks around each attempt."""

from __future__ import annotations

import pytest
from django.tasks import TaskResultStatus, default_task_backend

from django_solidq.testing import perform_enqueued_jobs
from tests.app import tasks

pytestmark = pytest.mark.django_db


def test_middleware_and_hooks_run_in_order_around_each_attempt(settings):
    settings.SOLIDQ = {**settings.SOLIDQ, "MIDDLEWARE": ["tests.app.tasks.tracing_middleware"]}
    tasks.CALLS.clear()
    result = tasks.hooked.enqueue(21)
    perform_enqueued_jobs()
    assert tasks.CALLS == [
        "middleware-in:hooked",
        "around-in",
        "before",
        "task",
        "after:42",
        "around-out",
        "middleware-out",
    ]
    assert default_task_backend.get_result(result.id).return_value == 42


def test_a_raising_hook_fails_the_attempt_with_its_error_and_nothing_else_breaks():
    tasks.CALLS.clear()
    bad = tasks.hooked_badly.enqueue()
    good = tasks.add.enqueue(1, 1)
    perform_enqueued_jobs()
    failed = default_task_backend.get_result(bad.id)
    assert failed.status == TaskResultStatus.FAILED
    assert failed.errors[0].exception_class_path == "builtins.RuntimeError"
    assert "hook failed" in failed.errors[0].traceback
    assert "never" not in tasks.CALLS
    assert default_task_backend.get_result(good.id).return_value == 2
