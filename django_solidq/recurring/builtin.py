"""The built-in tasks a recurring entry runs: ``run_command`` (an entry's ``command``) and
``clear_finished_jobs`` (the built-in recurring task ``solidq_clear_finished``). Both are
re-exported as ``django_solidq.recurring.run_command`` / ``.clear_finished_jobs``, the paths
that settings and jobs enqueued by earlier versions name."""

from __future__ import annotations

import shlex

from django.core.management import call_command
from django.tasks import task
from django.utils import timezone

from django_solidq.conf import get_config
from django_solidq.models import Job

CLEAR_FINISHED_KEY = "solidq_clear_finished"
CLEAR_FINISHED_SCHEDULE = "every hour"
CLEAR_FINISHED_PATH = "django_solidq.recurring.clear_finished_jobs"


@task
def run_command(command: str) -> None:
    """Run a management command line (a recurring entry's ``command``), as ``manage.py`` would:
    ``run_command.enqueue("clearsessions")``."""
    name, *arguments = shlex.split(command)
    call_command(name, *arguments)


@task
def clear_finished_jobs() -> int:
    """Delete jobs that finished more than ``SOLIDQ['CLEAR_FINISHED_JOBS_AFTER']`` ago (the
    built-in recurring task ``solidq_clear_finished``). Returns how many were deleted."""
    cutoff = timezone.now() - get_config().clear_finished_jobs_after_delta
    return Job.objects.clear_finished(cutoff)
