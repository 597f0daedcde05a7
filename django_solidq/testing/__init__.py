"""Test helpers: run enqueued jobs in-process the way a worker would, and assert on jobs.

Works in ``django.test.TestCase`` and with pytest-django; see docs/testing.md.
"""

from __future__ import annotations

from .assertions import assert_enqueued, assert_no_enqueued, assert_performed
from .backend import ImmediateBackend
from .performing import (
    TEST_WORKER,
    PerformedJobs,
    enqueued_jobs,
    perform_enqueued_jobs,
    perform_now,
)
from .records import CapturedJobs, EnqueuedJob, captured_jobs

__all__ = [
    "TEST_WORKER",
    "CapturedJobs",
    "EnqueuedJob",
    "ImmediateBackend",
    "PerformedJobs",
    "assert_enqueued",
    "assert_no_enqueued",
    "assert_performed",
    "captured_jobs",
    "enqueued_jobs",
    "perform_enqueued_jobs",
    "perform_now",
]
