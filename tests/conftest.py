"""Session-wide test setup: database server check, stale SQLite files, the ``runjobs`` fixture.

``SOLIDQ_TEST_DB`` (sqlite, postgres or mysql) picks the database, see ``tests/settings.py``.
More fixtures live in their own modules; keep this one small.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import TransactionTestCase

from testproject.dbcheck import canonical, describe, server_error, start_hint
from tests.harness import RunJobs

_UNREACHABLE: str | None = None


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def _remove_stale_sqlite_files() -> None:
    test_name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if not test_name:
        return
    path = Path(test_name)
    for stale in path.parent.glob(f"{path.name}*"):
        stale.unlink(missing_ok=True)


def pytest_sessionstart(session: pytest.Session) -> None:
    global _UNREACHABLE
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller did this
        return
    vendor = canonical(os.environ.get("SOLIDQ_TEST_DB", "sqlite"))
    if vendor == "sqlite":
        _remove_stale_sqlite_files()
        return
    error = server_error(vendor, timeout=3)
    if error is None:
        return
    message = f"{describe(vendor)} is not reachable ({error}); {start_hint(vendor)}"
    if _in_ci():
        pytest.exit(f"CI=true and {message}", returncode=1)
    _UNREACHABLE = f"database tests skipped: {message}"


def _uses_database(item: pytest.Item) -> bool:
    if item.get_closest_marker("django_db") is not None:
        return True
    if "django_db_setup" in getattr(item, "fixturenames", ()):
        return True
    cls = getattr(item, "cls", None)
    return isinstance(cls, type) and issubclass(cls, TransactionTestCase)


def _open_every_database(items: list[pytest.Item]) -> None:
    """With the queue in its own database (SOLIDQ_TEST_QUEUE_DB), tests may use both."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None:
            kwargs = {**marker.kwargs, "databases": "__all__"}
            item.add_marker(pytest.mark.django_db(*marker.args, **kwargs), append=False)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if len(settings.DATABASES) > 1:
        _open_every_database(items)
    if _UNREACHABLE is None:
        return
    skip = pytest.mark.skip(reason=_UNREACHABLE)
    for item in items:
        if _uses_database(item):
            item.add_marker(skip)


def pytest_report_header(config: pytest.Config) -> list[str]:
    vendor = canonical(os.environ.get("SOLIDQ_TEST_DB", "sqlite"))
    lines = [f"solidq test database: {describe(vendor)}"]
    if _UNREACHABLE:
        lines.append(_UNREACHABLE)
    return lines


@pytest.fixture
def runjobs(tmp_path: Path) -> Iterator[Callable[..., RunJobs]]:
    """Start real ``manage.py runjobs`` subprocesses on the test database; all are stopped
    (TERM, then KILL of the whole process group) when the test ends."""
    started: list[RunJobs] = []

    def start(*args: str, config: dict[str, Any] | None = None) -> RunJobs:
        process = RunJobs(tmp_path / f"runjobs-{len(started)}.log", *args, config=config)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
