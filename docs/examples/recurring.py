"""Recurring tasks: the reference's schedules, and tasks added at run time."""

from __future__ import annotations

import django_solidq
from django_solidq.models import RecurringTask

from .jobs import generate_report

# Solid Queue's schedule strings, accepted as they are, and the cron line each one means.
SCHEDULES = {
    "every 5 minutes": "*/5 * * * *",
    "every 2 hours": "0 */2 * * *",
    "every day": "0 0 * * *",
    "every day at 3pm": "0 15 * * *",
    "every monday at 9am": "0 9 * * 1",
    "every 1st of month at 8am": "0 8 1 * *",
    "every day at 9am, 3pm, 9pm": "0 9,15,21 * * *",
    "every day at 9am America/New_York": "0 9 * * * America/New_York",
}


def schedule_customer_report(customer_id: int) -> RecurringTask:
    return django_solidq.schedule_recurring_task(
        f"report-for-{customer_id}",
        task=generate_report,
        schedule="every monday at 9am",
        args=[f"customer-{customer_id}"],
        description=f"Weekly report of customer {customer_id}",
    )


def unschedule_customer_report(customer_id: int) -> bool:
    return django_solidq.unschedule_recurring_task(f"report-for-{customer_id}")
