"""Enqueueing the jobs: the call sites of Solid Queue's ``perform_later`` examples."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth.models import User
from django.tasks import TaskResult, TaskResultStatus
from django.utils import timezone

from django_solidq import enqueue_all, pk_of

from .jobs import export_user_data, send_digest, send_reminder, send_welcome_email


def welcome(user: User) -> TaskResult:
    return send_welcome_email.enqueue(user.pk)


def welcome_first(user: User) -> TaskResult:
    return send_welcome_email.using(queue_name="high_priority", priority=10).enqueue(user.pk)


def remind_in_an_hour(user: User) -> TaskResult:
    return send_reminder.using(run_after=timedelta(hours=1)).enqueue(user.pk)


def digest_tomorrow_at_noon() -> TaskResult:
    tomorrow = timezone.localdate() + timedelta(days=1)
    noon = datetime.combine(tomorrow, time(12), tzinfo=timezone.get_current_timezone())
    return send_digest.using(run_after=noon).enqueue()


def export_in_two_days(user: User) -> TaskResult:
    return export_user_data.using(run_after=timedelta(days=2)).enqueue(user.pk)


def welcome_everyone_one_by_one() -> None:
    for user_id in User.objects.values_list("pk", flat=True):
        send_welcome_email.enqueue(user_id)  # one INSERT (or more) per user


def welcome_everyone() -> list[TaskResult]:
    user_ids = User.objects.values_list("pk", flat=True)
    return enqueue_all([send_welcome_email.bind(user_id) for user_id in user_ids])


def welcome_many(users: list[User]) -> list[TaskResult]:
    # pk_of turns model instances into their primary keys, also inside lists and dicts.
    return enqueue_all([send_welcome_email.bind(user_id) for user_id in pk_of(users)])


def delivered_to(result: TaskResult) -> str | None:
    result = send_welcome_email.get_result(result.id)  # fresh from the database
    if result.status == TaskResultStatus.SUCCESSFUL:
        return result.return_value  # what the task returned: the address
    return None  # READY or RUNNING: not yet; FAILED: result.errors says why
