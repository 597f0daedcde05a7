"""Errors recorded on jobs and raised by the public API."""

from __future__ import annotations


class SolidQueueError(Exception):
    """Base class of django_solidq's own errors."""


class LostAttemptError(SolidQueueError):
    """An attempt ended because the process running it went away."""


class ProcessExitError(LostAttemptError):
    """The worker process running the job exited (killed, crashed, ``os._exit``, OOM)."""


class ProcessPrunedError(LostAttemptError):
    """The worker running the job stopped heartbeating and was pruned (a lost host)."""


class ProcessMissingError(LostAttemptError):
    """The job was claimed by a process that no longer exists (found at boot)."""


class TaskImportError(SolidQueueError):
    """The job's task path no longer imports to a task."""


class CommandNotAllowed(SolidQueueError):
    """A recurring task would run a command line the settings do not allow (a row written
    to the table by hand, or the command runner reached through a task path)."""


class JobTimeout(SolidQueueError):
    """Raised inside a job that ran past its timeout."""


class ConcurrencyLimitReached(SolidQueueError):
    """Recorded on a job dropped at enqueue by ``limits_concurrency(on_conflict="discard")``."""


class DuplicateJob(SolidQueueError):
    """Recorded on a unique job dropped at enqueue because a live job has its key."""


class ArgumentNotSerializable(SolidQueueError, TypeError, ValueError):
    """An argument given to ``enqueue`` cannot be stored as JSON (or not alike on every
    database: see ``django_solidq.arguments``). A TypeError and a ValueError both."""


LOST_ATTEMPT_ERRORS = frozenset(
    f"{cls.__module__}.{cls.__qualname__}"
    for cls in (ProcessExitError, ProcessPrunedError, ProcessMissingError)
)
