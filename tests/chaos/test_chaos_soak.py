"""The chaos soak's short form (~3 minutes per database, set-up and drain included).

Runs ``benchmarks/chaos.py --short`` on a private PostgreSQL and a private MariaDB server
that the soak starts, crashes and restarts itself. Slow, so it has a step of its own::

    SOLIDQ_CHAOS=1 pytest tests/chaos            # both databases
    SOLIDQ_CHAOS=1 pytest tests/chaos -k mysql   # one

Skipped without ``SOLIDQ_CHAOS``; with it, a missing server binary fails under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BINARIES = {
    "postgres": [
        Path("/usr/lib/postgresql/15/bin/initdb"),
        Path("/usr/lib/postgresql/15/bin/pg_ctl"),
    ],
    "mysql": [Path("/usr/sbin/mariadbd"), Path("/usr/bin/mariadb-install-db")],
}

pytestmark = [pytest.mark.process, pytest.mark.timeout(1500)]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def _require(db: str) -> None:
    if not os.environ.get("SOLIDQ_CHAOS"):
        pytest.skip("the chaos soak runs in its own step (set SOLIDQ_CHAOS=1)")
    missing = [str(p) for p in BINARIES[db] if not p.exists()]
    if missing:
        message = f"the {db} chaos soak needs {', '.join(missing)}"
        if _in_ci():
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)


@pytest.mark.parametrize("db", ["postgres", "mysql"])
def test_short_chaos_soak_loses_no_job_and_keeps_every_promise(db, tmp_path):
    _require(db)
    report_path = tmp_path / "report.json"
    command = [sys.executable, "benchmarks/chaos.py", "--short", "--db", db]
    completed = subprocess.run(
        [*command, "--json", str(report_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1400,
    )
    print(completed.stdout[-5000:], completed.stderr[-5000:])
    assert report_path.exists(), f"no report: {completed.stderr[-2000:]}"
    report = json.loads(report_path.read_text())
    assert report["failures"] == [], "\n".join(report["failures"])
    done = report["completions"]
    assert done["unfinished_count"] == 0 and done["failed"] == 0  # lost = 0
    assert done["duplicates_without_lost_attempt"] == 0
    assert report["limits"]["limited_peak"] <= report["limits"]["limit"]
    assert report["recurring"]["ticks_enqueued_twice"] == 0
    assert completed.returncode == 0
