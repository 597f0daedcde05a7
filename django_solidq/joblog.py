"""The job log: one line per step of a job's life, as Active Job logs them, on the logger
``django_solidq.jobs``. Every record carries the job's id, task, queue and attempt, in its
message and as attributes (``extra``: ``job_id``, ``task_path``, ``queue_name``, ``attempt``)
for structured handlers.

Levels as an operator expects: starts and ends are INFO, a retry and a discard WARNING, a
final failure ERROR (with its traceback), a lost attempt WARNING.

While a job runs, ``current_job`` holds its fields, and ``JobContextFilter`` copies them onto
any record (a handler filter), so lines a task logs itself carry its job id too.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

logger = logging.getLogger("django_solidq.jobs")

FIELDS = ("job_id", "task_path", "queue_name", "attempt")
current_job: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "solidq_current_job", default=None
)


def fields_of(job: Any) -> dict[str, Any]:
    """The log fields of a job about to run (or just run): its attempt counts this one."""
    return {
        "job_id": str(job.pk),
        "task_path": job.task_path,
        "queue_name": job.queue_name,
        "attempt": len(job.worker_ids) + 1,
    }


@contextmanager
def running(fields: dict[str, Any]) -> Iterator[None]:
    """While the block runs, records of this thread carry the job's ``fields``
    (``fields_of(job)``)."""
    token = current_job.set(fields)
    try:
        yield
    finally:
        current_job.reset(token)


class JobContextFilter(logging.Filter):
    """A handler filter: records logged while a job runs get its ``job_id``, ``task_path``,
    ``queue_name`` and ``attempt`` (``-`` outside a job), so a format string can name them.
    Fields a record already has (``extra=``) are kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = current_job.get() or {}
        for name in FIELDS:
            if not hasattr(record, name):
                setattr(record, name, fields.get(name, "-"))
        return True


def _name(fields: dict[str, Any]) -> str:
    return f"{fields['task_path']} (job {fields['job_id']}) from {fields['queue_name']}"


def started(fields: dict[str, Any]) -> None:
    logger.info("Performing %s, attempt %d", _name(fields), fields["attempt"], extra=fields)


def performed(fields: dict[str, Any], seconds: float) -> None:
    logger.info(
        "Performed %s in %.0f ms, attempt %d",
        _name(fields),
        seconds * 1000,
        fields["attempt"],
        extra=fields,
    )


def retrying(fields: dict[str, Any], exc: BaseException, delay: float, of: Any) -> None:
    attempts = f" of {of}" if isinstance(of, int) else ""
    logger.warning(
        "Retrying %s in %s s (attempt %d%s failed with %s: %s)",
        _name(fields),
        f"{delay:g}",
        fields["attempt"],
        attempts,
        type(exc).__name__,
        exc,
        extra=fields,
    )


def discarded(fields: dict[str, Any], exc: BaseException) -> None:
    logger.warning(
        "Discarded %s because of %s: %s (attempt %d)",
        _name(fields),
        type(exc).__name__,
        exc,
        fields["attempt"],
        extra=fields,
    )


def failed(fields: dict[str, Any], exc: BaseException) -> None:
    logger.error(
        "Error performing %s: %s: %s; failed for good after attempt %d",
        _name(fields),
        type(exc).__name__,
        exc,
        fields["attempt"],
        exc_info=exc,
        extra=fields,
    )


def lost(fields: dict[str, Any], exc: BaseException, again: bool) -> None:
    outcome = "running it again" if again else "not running it again"
    logger.warning(
        "Lost attempt %d of %s: %s (%s); %s",
        fields["attempt"],
        _name(fields),
        exc,
        type(exc).__name__,
        outcome,
        extra=fields,
    )


def losses(recorded: Iterable[Any]) -> None:
    """A line for each attempt lost with its worker (``ClaimedExecution``'s ``Loss`` rows:
    its attempt is counted on the job already)."""
    for loss in recorded:
        fields = {**fields_of(loss.job), "attempt": len(loss.job.worker_ids)}
        lost(fields, loss.error, again=loss.outcome.action == "retry")


def enqueued_many(count: int, backend: str) -> None:
    logger.info("Enqueued %d job(s) through backend %r in one transaction", count, backend)


def enqueued(job: Any) -> None:
    if not logger.isEnabledFor(logging.INFO):
        return  # the common case in production: skip building the line
    fields = {**fields_of(job), "attempt": 0}
    when = f", due {job.scheduled_at.isoformat()}" if job.scheduled_at and not job.is_due() else ""
    logger.info("Enqueued %s%s", _name(fields), when, extra=fields)
