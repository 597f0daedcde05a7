"""Signal receivers, connected in ``apps.ExamplesConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.tasks import TaskResult

from .jobs import send_welcome_email
from .services import error_tracker


def welcome_new_user(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    """Rails' ``after_create`` callback: a new active user gets the welcome email, enqueued
    when the transaction that created the user commits (the worker could not see it before)."""
    if created and instance.is_active:
        send_welcome_email.enqueue_on_commit(instance.pk)


def report_dead_job(
    sender: Any, task_result: TaskResult, exception: BaseException, **kwargs: Any
) -> None:
    """A job failed for good: no retry is left (django_solidq's ``task_failed`` signal)."""
    error_tracker.notify(exception, job=task_result.task.name, job_id=task_result.id, final=True)
