"""``manage.py demo_status``: how many sample jobs are in each state, in the admin's words.

``--wait SECONDS --url URL`` first waits (at most SECONDS) until the web server answers at
URL and the demo's first burst of jobs is over: nothing Pending or In progress, and no retry
Scheduled within the next 30 s (the flaky job's). Jobs deferred with ``run_after`` do not count:
they wait for their time. ``scripts/demo`` uses it to show its "open the admin" box after the
start-up logs rather than before them.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

from demo.states import count_states, scheduled_jobs, state_label, summary
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from django_solidq.models import ScheduledExecution

RETRY_SOON = timedelta(seconds=30)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status < 500)
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (OSError, ValueError):
        return False


def settled() -> bool:
    counts = count_states()
    if counts["ready"] or counts["claimed"]:
        return False
    retries = ScheduledExecution.objects.filter(
        job__last_attempted_at__isnull=False,  # attempted before: a retry, not a deferred job
        scheduled_at__lte=timezone.now() + RETRY_SOON,
    )
    return not retries.exists()


class Command(BaseCommand):
    help = "Print how many sample jobs are in each state (as the admin names them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--wait", type=float, default=0, help="wait at most this long (s)")
        parser.add_argument("--url", default="", help="with --wait: also wait for this URL")

    def handle(self, *args: Any, wait: float, url: str, **options: Any) -> None:
        deadline = time.monotonic() + wait
        while url and time.monotonic() < deadline and not answers(url):
            time.sleep(0.5)
        while time.monotonic() < deadline and not settled():
            time.sleep(0.5)
        self.stdout.write(f"Sample jobs now: {summary(count_states('demo.'))}.")
        upcoming = scheduled_jobs()
        if upcoming:
            now = timezone.now()
            soon = ", ".join(
                f"{name} in {max(0, round((at - now).total_seconds()))} s" for name, at in upcoming
            )
            self.stdout.write(f"{state_label('scheduled')}: {soon}.")
