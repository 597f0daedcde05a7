"""The job log (logger ``django_solidq.jobs``): a line per step of a job's life, with the
job's id, task, queue and attempt in the message and in the record, at the levels an
operator expects."""

from __future__ import annotations

import logging

import pytest

from django_solidq.joblog import JobContextFilter
from django_solidq.testing import perform_enqueued_jobs
from tests import state
from tests.app import tasks

pytestmark = pytest.mark.django_db


def job_lines(caplog: pytest.LogCaptureFixture, job_id: str) -> list[tuple[str, str]]:
    return [
        (r.levelname, r.getMessage())
        for r in caplog.records
        if r.name == "django_solidq.jobs" and getattr(r, "job_id", None) == str(job_id)
    ]


def test_a_job_that_retries_twice_then_succeeds_tells_its_story(caplog, tmp_path):
    caplog.set_level(logging.INFO, logger="django_solidq.jobs")
    result = tasks.flaky_twice.enqueue(str(tmp_path / "n"))
    perform_enqueued_jobs(include_scheduled=True)
    lines = job_lines(caplog, result.id)
    name = f"tests.app.tasks.flaky_twice (job {result.id}) from default"
    assert [level for level, _ in lines] == [
        "INFO",  # enqueued
        "INFO",  # performing, attempt 1
        "WARNING",  # retrying
        "INFO",  # performing, attempt 2
        "WARNING",  # retrying
        "INFO",  # performing, attempt 3
        "INFO",  # performed
    ], lines
    messages = [message for _, message in lines]
    assert messages[0] == f"Enqueued {name}"
    assert messages[1] == f"Performing {name}, attempt 1"
    assert messages[2] == f"Retrying {name} in 0 s (attempt 1 of 3 failed with Flaky: not yet)"
    assert messages[4] == f"Retrying {name} in 0 s (attempt 2 of 3 failed with Flaky: not yet)"
    assert messages[5] == f"Performing {name}, attempt 3"
    assert messages[6].startswith(f"Performed {name} in ") and messages[6].endswith("attempt 3")
    record = next(r for r in caplog.records if r.getMessage() == messages[2])
    assert (record.task_path, record.queue_name, record.attempt) == (  # type: ignore[attr-defined]
        "tests.app.tasks.flaky_twice",
        "default",
        1,
    )


def test_a_discard_is_a_warning_and_a_final_failure_an_error_with_its_traceback(caplog):
    caplog.set_level(logging.INFO, logger="django_solidq.jobs")
    discarded = state.enqueue("plain", 1, mode="discard")
    failing = state.enqueue("plain", 2, mode="fail")
    perform_enqueued_jobs()
    (level, message) = job_lines(caplog, discarded)[-1]
    assert level == "WARNING"
    assert message.startswith("Discarded tests.app.state_tasks.plain")
    assert "because of Discardable: 1 (attempt 1)" in message
    error = [r for r in caplog.records if getattr(r, "job_id", None) == str(failing)][-1]
    assert error.levelname == "ERROR"
    assert "failed for good after attempt 1" in error.getMessage()
    assert error.exc_info is not None and error.exc_info[0].__name__ == "Failing"


def test_a_lost_attempt_says_so_and_that_the_job_runs_again(caplog):
    caplog.set_level(logging.INFO, logger="django_solidq.jobs")
    job_id = state.enqueue("plain", 1)
    state.claim(1)
    state.recover_crashed([job_id])
    level, message = job_lines(caplog, job_id)[-1]
    assert level == "WARNING"
    assert message.startswith("Lost attempt 1 of tests.app.state_tasks.plain")
    assert "(ProcessExitError); running it again" in message


def test_lines_a_task_logs_itself_carry_its_job_id_through_the_filter(tmp_path):
    path = tmp_path / "inside.log"
    handler = logging.FileHandler(path)
    handler.addFilter(JobContextFilter())
    handler.setFormatter(logging.Formatter("%(job_id)s %(attempt)s %(message)s"))
    inside = logging.getLogger("tests.app.inside")
    inside.addHandler(handler)
    try:
        result = tasks.logs_inside.enqueue("hello from the task")
        perform_enqueued_jobs()
        inside.warning("outside any job")
    finally:
        inside.removeHandler(handler)
        handler.close()
    assert path.read_text().splitlines() == [
        f"{result.id} 1 hello from the task",
        "- - outside any job",
    ]
