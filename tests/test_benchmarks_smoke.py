"""The side-by-side benchmark's own half, run small so it cannot rot.

``benchmarks/compare.py --smoke --systems ours --db sqlite`` (what ``python benchmarks/run.py
--compare`` runs for django_solidq, at tiny sizes, on a throwaway SQLite file): every kind of
measurement once (but the 20 ms sleep jobs: the same path as the async ones), through the
same runner and the same ``runjobs`` subprocesses. The peers
(Celery, dj-queue, procrastinate, django-tasks-db) are not installed here: the full compare is
run by hand, not in CI. Runs once, on the SQLite pass of the suite (it makes its own file).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    os.environ.get("SOLIDQ_TEST_DB", "sqlite") != "sqlite",
    reason="the harness makes its own SQLite file: once, on the SQLite pass, is enough",
)


def test_compare_harness_measures_ours_on_sqlite(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    cmd = [sys.executable, str(REPO / "benchmarks" / "compare.py"), "--smoke"]
    cmd += ["--systems", "ours", "--db", "sqlite", "--configs", "defaults"]
    cmd += ["--no-write-docs", "--json", str(out)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOLIDQ_", "DJANGO_"))}
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(out.read_text())["results"]
    by_kind = {(r["m"], r.get("per_call")): r for r in results}
    for kind in ("calibration", "drain", "single"):
        assert by_kind[(kind, None)]["rate"] > 0, by_kind[(kind, None)]
    assert by_kind[("bulk", 1000)]["rate"] > 0
    assert by_kind[("bulk", 2000)]["rate"] > 0
    latency = by_kind[("latency", None)]
    assert 0 < latency["p50_ms"] <= latency["p95_ms"], latency
    for kind in ("drain", "async"):  # every job of every drain ran
        row = by_kind[(kind, None)]
        assert row["done"] == row["n"], row
        assert "error" not in row, row
    assert "| django_solidq |" in done.stdout
