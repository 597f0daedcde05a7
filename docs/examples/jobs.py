"""Solid Queue's example jobs as Django tasks (``@task`` functions of django_solidq)."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from itertools import batched
from smtplib import SMTPException
from typing import Any

from django.contrib.auth.models import User
from django.core.mail import send_mail, send_mass_mail
from django.db import OperationalError
from django.tasks import TaskResult, task

from django_solidq import JobTimeout, discard_on, enqueue_all, polynomially_longer, retry_on

from .services import (
    InvalidCardError,
    PaymentGatewayError,
    error_tracker,
    payment_gateway,
    search_index,
)

logger = logging.getLogger(__name__)


# Basic job, queue names --------------------------------------------------------------------
@task(queue_name="mailers")
def send_welcome_email(user_id: int) -> str:
    user = User.objects.get(pk=user_id)
    send_mail(
        subject="Welcome to Example!",
        message=f"Hi {user.get_username()}, thanks for signing up.",
        from_email=None,  # settings.DEFAULT_FROM_EMAIL
        recipient_list=[user.email],
    )
    return user.email


def notification_queue(user_id: int, message: str) -> str:
    """Called with the task's arguments at enqueue: premium users get the faster queue."""
    premium = User.objects.filter(pk=user_id, groups__name="premium").exists()
    return "high_priority" if premium else "default"


@task(queue_as=notification_queue)
def notify_user(user_id: int, message: str) -> str:
    logger.info("Notifying user %s: %s", user_id, message)
    return message


# Priority: Django's is -100..100, larger runs first (Solid Queue's is the reverse) -------------
@task(queue_name="notifications", priority=10)
def send_urgent_notification(user_id: int) -> str:
    logger.warning("Urgent notification for user %s", user_id)
    return "sent"


# Retries and discards ----------------------------------------------------------------------
@task(
    queue_name="payments",
    retry_on=[
        # Up to 5 attempts in all, waiting 3 s, 18 s, 83 s, 258 s (plus up to 15 % jitter).
        retry_on(PaymentGatewayError, wait=polynomially_longer, attempts=5),
        # Deadlocks and dropped connections: 3 attempts, 5 seconds apart.
        retry_on(OperationalError, wait=timedelta(seconds=5), attempts=3),
    ],
    discard_on=[InvalidCardError],  # don't retry: end the job, recorded as discarded
)
def process_payment(order_id: int) -> str:
    return payment_gateway.charge(order_id)


# Callbacks: before / after / around hooks --------------------------------------------------
def log_start(result: TaskResult) -> None:
    logger.info("Starting report generation for %s", result.args[0])


def log_completion(result: TaskResult, value: Any) -> None:
    logger.info("Completed report generation for %s", result.args[0])


def measure_time(result: TaskResult, proceed: Any) -> Any:
    start = time.monotonic()
    value = proceed()  # Ruby's `yield`: the before hooks, the task, the after hooks
    logger.info("Report generation took %.3f seconds", time.monotonic() - start)
    return value


@task(before=[log_start], after=[log_completion], around=[measure_time])
def generate_report(report_name: str) -> dict[str, Any]:
    return {"report": report_name, "users": User.objects.count()}


# Scheduling --------------------------------------------------------------------------------
@task
def send_reminder(user_id: int) -> str:
    user = User.objects.get(pk=user_id)
    send_mail("Finish signing up", "You are one step away.", None, [user.email])
    return user.email


@task
def send_digest(kind: str = "daily") -> int:
    emails = User.objects.filter(is_active=True).exclude(email="").values_list("email", flat=True)
    messages = [(f"Your {kind} digest", "Here is what happened.", None, [e]) for e in emails]
    return send_mass_mail(messages)


@task
def export_user_data(user_id: int) -> dict[str, Any]:
    user = User.objects.get(pk=user_id)
    return {"username": user.username, "email": user.email, "joined": user.date_joined.isoformat()}


# Recurring ---------------------------------------------------------------------------------
@task(queue_name="maintenance")
def cleanup() -> dict[str, int]:
    """Delete expired sessions and never-used accounts older than 90 days."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    now = timezone.now()
    sessions, _ = Session.objects.filter(expire_date__lt=now).delete()
    accounts, _ = User.objects.filter(
        last_login__isnull=True, is_active=False, date_joined__lt=now - timedelta(days=90)
    ).delete()
    logger.info("Cleanup completed: %s sessions, %s accounts", sessions, accounts)
    return {"sessions": sessions, "accounts": accounts}


@task
def charge_pending_payments() -> int:
    order_ids = payment_gateway.pending_order_ids()
    enqueue_all([process_payment.bind(order_id) for order_id in order_ids])
    return len(order_ids)


# Logging -----------------------------------------------------------------------------------
def log_performance(result: TaskResult, proceed: Any) -> Any:
    start = time.monotonic()
    value = proceed()
    logger.info("%s completed in %.3fs", result.task.name, time.monotonic() - start)
    return value


@task(around=[log_performance])
def sync_user(user_id: int) -> str:
    logger.info("Processing user %s", user_id)
    return User.objects.get(pk=user_id).get_username()


# Best practices ----------------------------------------------------------------------------
@task
def activate_user(user_id: int) -> bool:
    """Idempotent: a second run changes nothing. Returns whether this run activated the user."""
    return User.objects.filter(pk=user_id, is_active=False).update(is_active=True) == 1


def log_missing_user(result: TaskResult, error: BaseException) -> None:
    logger.error("User not found: %s", result.args[0])


@task(
    retry_on=[retry_on(SMTPException, wait=polynomially_longer, attempts=5)],
    discard_on=[discard_on(User.DoesNotExist, on_discard=log_missing_user)],
)
def send_newsletter(user_id: int) -> str:
    try:
        user = User.objects.get(pk=user_id)
        send_mail("Our newsletter", "News from Example.", None, [user.email])
    except Exception as exc:
        error_tracker.notify(exc, user_id=user_id)
        raise  # retry_on / discard_on above decide what happens next
    return user.email


@task
def send_newsletters(batch_size: int = 1000) -> int:
    """Fan out: one small send_newsletter job per active user, enqueued batch_size at a time."""
    user_ids = list(User.objects.filter(is_active=True).values_list("pk", flat=True))
    for chunk in batched(user_ids, batch_size):
        enqueue_all([send_newsletter.bind(user_id) for user_id in chunk])
    return len(user_ids)


@task(
    timeout=timedelta(minutes=5),
    priority=-5,  # Solid Queue's `queue_with_priority 5`: after the default 0
    retry_on=[retry_on(JobTimeout, wait=timedelta(minutes=1), attempts=3)],
)
def rebuild_search_index(chunks: int) -> int:
    try:
        for chunk in range(chunks):
            search_index.update(chunk)
    except JobTimeout:
        logger.error("Search index rebuild timed out after 5 minutes")
        raise  # retry_on(JobTimeout) schedules the next attempt
    return chunks
