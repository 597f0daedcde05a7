"""``manage.py demo_enqueue``: enqueue a mixed batch of the demo's sample tasks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from demo import tasks
from django.core.management.base import BaseCommand, CommandParser

from django_solidq import enqueue_all


class Command(BaseCommand):
    help = "Enqueue a mixed batch of sample jobs (values, failures, slow, async, scheduled...)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--bulk", type=int, default=50, help="how many add() jobs to enqueue_all at once"
        )

    def handle(self, *args: Any, bulk: int, **options: Any) -> None:
        results = [
            ("add(2, 3)", tasks.add.enqueue(2, 3)),
            ("always_fails()", tasks.always_fails.enqueue()),
            ("slow(5)", tasks.slow.enqueue(5)),
            ("fetch_title(1) [async]", tasks.fetch_title.enqueue(1)),
            ("urgent_report('weekly') [priority 50]", tasks.urgent_report.enqueue("weekly")),
            ("send_welcome_email(1) [queue mail]", tasks.send_welcome_email.enqueue(1)),
            (
                "reminder(...) [in 30 s]",
                tasks.reminder.using(run_after=timedelta(seconds=30)).enqueue("stand up"),
            ),
            (
                "add(1, 1) [in 2 min, priority -10]",
                tasks.add.using(priority=-10, run_after=timedelta(minutes=2)).enqueue(1, 1),
            ),
            ("flaky() [takes_context]", tasks.flaky.enqueue()),
        ]
        for label, result in results:
            self.stdout.write(f"{result.id}  {result.status:<10}  {label}")
        if bulk:
            many = enqueue_all([tasks.add.bind(i, i) for i in range(bulk)])
            self.stdout.write(
                f"enqueue_all: {len(many)} add(i, i) jobs, {many[0].id} ... {many[-1].id}"
            )
        self.stdout.write(self.style.SUCCESS(f"Enqueued {len(results) + bulk} jobs."))
