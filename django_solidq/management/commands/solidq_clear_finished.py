"""``manage.py solidq_clear_finished``: delete finished jobs older than a cutoff, in batches."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from django_solidq.conf import get_config
from django_solidq.models import Job


class Command(BaseCommand):
    help = (
        "Delete jobs that finished (succeeded or were discarded) more than "
        "SOLIDQ['CLEAR_FINISHED_JOBS_AFTER'] ago, in small batches. Failed jobs are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=float,
            help="Seconds since finishing (default: SOLIDQ['CLEAR_FINISHED_JOBS_AFTER']).",
        )
        parser.add_argument("--task", help="Only jobs of this task path.")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        age = options["older_than"]
        if age is None:
            age = get_config().clear_finished_jobs_after
        jobs = Job.objects.all()
        if options["task"]:
            jobs = jobs.filter(task_path=options["task"])
        deleted = jobs.clear_finished(
            timezone.now() - timedelta(seconds=age), batch_size=options["batch_size"]
        )
        self.stdout.write(f"Deleted {deleted} finished job(s) older than {age:g} seconds.")
