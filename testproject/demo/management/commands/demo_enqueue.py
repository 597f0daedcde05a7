"""``manage.py demo_enqueue``: enqueue a mixed batch of the demo's sample tasks."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from demo import tasks
from demo.states import state_label, states_of, summary
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
            ("always_fails() [fails on purpose]", tasks.always_fails.enqueue()),
            ("slow(5)", tasks.slow.enqueue(5)),
            ("fetch_title(1) [async]", tasks.fetch_title.enqueue(1)),
            ("urgent_report('weekly') [priority 50]", tasks.urgent_report.enqueue("weekly")),
            ("send_welcome_email(1) [queue mail]", tasks.send_welcome_email.enqueue(1)),
            (
                "reminder('stand up') [in 30 s]",
                tasks.reminder.using(run_after=timedelta(seconds=30)).enqueue("stand up"),
            ),
            (
                "add(1, 1) [in 2 min, priority -10]",
                tasks.add.using(priority=-10, run_after=timedelta(minutes=2)).enqueue(1, 1),
            ),
            ("flaky() [takes_context; fails once, then a retry succeeds]", tasks.flaky.enqueue()),
        ]
        many = enqueue_all([tasks.add.bind(i, i) for i in range(bulk)]) if bulk else []
        # The job's state as the admin names it (Pending, Scheduled...), not Django's
        # TaskResultStatus (READY for both a due job and a deferred one).
        states = states_of([r.id for _, r in results] + [r.id for r in many])
        self.stdout.write(f"{'job id':<36}  {'state':<10} {'task'}")
        for label, result in results:
            state = states.get(str(result.id), "ready")
            self.stdout.write(f"{result.id}  {state_label(state):<10} {label}")
        if many:
            self.stdout.write(
                f"{many[0].id}  {state_label('ready'):<10} ... and {len(many) - 1} more add(i, i) "
                "enqueued together with enqueue_all"
            )
        counts = Counter(states.values())
        self.stdout.write(
            self.style.SUCCESS(f"Enqueued {len(results) + len(many)} jobs: {summary(counts)}.")
        )
