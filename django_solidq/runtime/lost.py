"""The poison-pill cap: how many lost attempts a job may have before it is failed."""

from __future__ import annotations

from django.utils.module_loading import import_string

from django_solidq.conf import get_config
from django_solidq.models import Job


def max_lost_attempts(job: Job) -> int:
    """The task's ``max_lost_attempts`` option, else ``SOLIDQ['MAX_LOST_ATTEMPTS']``."""
    try:
        option = getattr(import_string(job.task_path), "max_lost_attempts", None)
    except ImportError:
        option = None
    return option if isinstance(option, int) and option > 0 else get_config().max_lost_attempts
