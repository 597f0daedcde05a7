"""Hostile settings: every broken SOLIDQ value is a system check error with a stable id (never
a traceback, never accepted), and every value the checks accept builds a Config and runs a
job in a worker."""

from __future__ import annotations

import math
import threading
import time
from datetime import timedelta

import pytest
from django.core import checks
from django.tasks import TaskResultStatus, default_task_backend
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_solidq.conf import MAX_THREADS, get_config, validate
from django_solidq.runtime.worker import Worker
from tests.app import tasks


def ids(raw) -> list[str]:
    return sorted({problem.id for problem in validate(raw)})


def messages(raw) -> str:
    return " ".join(f"{p.msg} {p.hint}" for p in validate(raw))


def check_ids(**solidq) -> list[str]:
    with override_settings(SOLIDQ=solidq):
        return sorted({m.id for m in checks.run_checks() if m.id.startswith("django_solidq")})


# Heartbeat and alive threshold ---------------------------------------------------------------
@pytest.mark.parametrize(("interval", "threshold"), [(6, 2), (5, 5), (5, 9.9)])
def test_an_alive_threshold_under_two_heartbeats_is_e020_naming_both(interval, threshold):
    raw = {"PROCESS_HEARTBEAT_INTERVAL": interval, "PROCESS_ALIVE_THRESHOLD": threshold}
    assert ids(raw) == ["django_solidq.E020"]
    text = messages(raw)
    assert "PROCESS_ALIVE_THRESHOLD" in text and "PROCESS_HEARTBEAT_INTERVAL" in text
    assert "Set PROCESS_ALIVE_THRESHOLD to several heartbeat intervals" in text


def test_the_default_heartbeat_timing_and_two_heartbeats_pass():
    assert ids({}) == []
    assert ids({"PROCESS_HEARTBEAT_INTERVAL": 5, "PROCESS_ALIVE_THRESHOLD": 10}) == []
    assert ids({"PROCESS_HEARTBEAT_INTERVAL": timedelta(seconds=1)}) == []


# Numbers -------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, -1, 0, 1e300, 10**20, "1"])
@pytest.mark.parametrize(
    ("raw", "check_id"),
    [
        (lambda v: {"WORKERS": [{"polling_interval": v}]}, "django_solidq.E005"),
        (lambda v: {"DISPATCHERS": [{"polling_interval": v}]}, "django_solidq.E007"),
        (lambda v: {"SHUTDOWN_TIMEOUT": v}, "django_solidq.E008"),
        (lambda v: {"DEFAULT_TIMEOUT": v}, "django_solidq.E008"),
        (lambda v: {"CLEAR_FINISHED_JOBS_AFTER": v}, "django_solidq.E008"),
    ],
    ids=["worker", "dispatcher", "shutdown", "timeout", "clear-after"],
)
def test_seconds_that_are_not_finite_positive_and_at_most_a_year_are_refused(raw, check_id, value):
    assert check_id in ids(raw(value))


@pytest.mark.parametrize(
    ("raw", "check_id"),
    [
        ({"WORKERS": [{"threads": 10**6}]}, "django_solidq.E005"),
        ({"WORKERS": [{"threads": MAX_THREADS + 1}]}, "django_solidq.E005"),
        ({"WORKERS": [{"processes": 10**6}]}, "django_solidq.E005"),
        ({"DISPATCHERS": [{"batch_size": 10**7}]}, "django_solidq.E007"),
    ],
)
def test_counts_over_their_bound_are_refused(raw, check_id):
    assert ids(raw) == [check_id]
    assert "at most" in messages(raw)


def test_counts_at_their_bound_pass():
    assert ids({"WORKERS": [{"threads": MAX_THREADS}]}) == []


# Dotted paths --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw",
    [
        {"MIDDLEWARE": ["tests.app.tasks.no_such_middleware"]},
        {"MIDDLEWARE": ["no_such_module.middleware"]},
        {"MIDDLEWARE": ["tests.app.tasks.HINT_THAT_IS_NOT_THERE", "tests.app.tasks.Boom"]},
        {"MIDDLEWARE": ["django_solidq.conf.MAX_THREADS"]},  # imports, but not callable
        {"ON_THREAD_ERROR": "no_such_module.report"},
        {"ON_THREAD_ERROR": "django_solidq.conf.SETTINGS"},
    ],
)
def test_dotted_paths_that_do_not_import_to_a_callable_are_e021(raw):
    assert ids(raw) == ["django_solidq.E021"]
    assert "SOLIDQ[" in messages(raw)


def test_an_on_thread_error_that_is_not_a_path_is_e008():
    assert ids({"ON_THREAD_ERROR": 42}) == ["django_solidq.E008"]


def test_working_dotted_paths_pass():
    raw = {
        "MIDDLEWARE": ["tests.app.tasks.tracing_middleware"],
        "ON_THREAD_ERROR": "logging.exception",
    }
    assert ids(raw) == []


# The database alias --------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("alias", ["nope", ["default"], 5])
def test_an_unknown_database_is_e009_from_manage_py_check_not_a_traceback(alias):
    assert "django_solidq.E009" in check_ids(DATABASE=alias)


# Hypothesis: whatever the checks accept boots and runs a job ---------------------------------
VALID_SECONDS = st.one_of(
    st.floats(min_value=0.01, max_value=3),
    st.sampled_from([1, timedelta(seconds=2), 365 * 86400]),
)
HOSTILE_SECONDS = st.one_of(
    st.floats(min_value=-1, max_value=1e12),
    st.sampled_from([math.nan, math.inf, -math.inf, 0, "1", 10**20]),
)
# Mostly values the checks accept, so that most examples boot a worker.
SECONDS = st.one_of(VALID_SECONDS, VALID_SECONDS, VALID_SECONDS, HOSTILE_SECONDS)
WORKER = st.fixed_dictionaries(
    {},
    optional={
        "threads": st.one_of(st.integers(1, 4), st.integers(1, 4), st.integers(-1, 300)),
        "polling_interval": SECONDS,
        "queues": st.sampled_from([["*"], "*", ["default"], ["default", "other"], []]),
    },
)
SOLIDQ = st.fixed_dictionaries(
    {"WORKERS": st.lists(WORKER, min_size=1, max_size=1)},
    optional={
        "SHUTDOWN_TIMEOUT": SECONDS,
        "PROCESS_HEARTBEAT_INTERVAL": st.one_of(VALID_SECONDS, HOSTILE_SECONDS),
        "PROCESS_ALIVE_THRESHOLD": SECONDS,
        "DEFAULT_TIMEOUT": st.one_of(st.none(), SECONDS),
        "BATCH_FINISHES": st.sampled_from([True, False, "yes"]),
        "MIDDLEWARE": st.sampled_from([[], ["tests.app.tasks.tracing_middleware"], ["nope.x"]]),
        "ON_THREAD_ERROR": st.sampled_from([None, "logging.exception", "nope.x"]),
    },
)


def run_one_job() -> None:
    """Build the Config, start a worker in this process, run a job through it, stop it."""
    config = get_config()
    worker = Worker(config.workers[0])
    result = tasks.add.enqueue(2, 3)
    worker.start()
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while default_task_backend.get_result(result.id).status != TaskResultStatus.SUCCESSFUL:
            assert time.monotonic() < deadline, "the job did not run"
            worker.wake()
            time.sleep(0.05)
    finally:
        worker.stop()
        thread.join(10)
        worker.drain()
        worker.deregister()


@pytest.mark.django_db(transaction=True)
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(solidq=SOLIDQ)
def test_every_setting_the_checks_accept_boots_a_worker_that_runs_a_job(solidq):
    if validate(solidq):
        return  # refused with a stable id: what the other tests here are about
    with override_settings(SOLIDQ=solidq):
        run_one_job()
