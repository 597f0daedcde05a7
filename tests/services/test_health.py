"""``manage.py solidq_health``: the verdict from process rows, latency and failed jobs, and
end to end against a real ``runjobs`` killed with SIGKILL."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from django_solidq.conf import get_config
from django_solidq.models import Pause, Process, ReadyExecution
from django_solidq.testing import perform_enqueued_jobs
from tests.app import tasks
from tests.harness import REPO, wait_for


def health(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("solidq_health", *args, stdout=out)
    except SystemExit as exit:
        return int(exit.code or 0), out.getvalue().strip()
    return 0, out.getvalue().strip()


def register(*kinds: str, ago: float = 0.0) -> None:
    for index, kind in enumerate(kinds):
        process = Process.objects.register(kind, f"{kind}-{index}-{ago}")
        seen = timezone.now() - timedelta(seconds=ago)
        Process.objects.filter(id=process.id).update(last_heartbeat_at=seen)


@pytest.mark.django_db
class TestVerdict:
    def test_no_processes_is_unhealthy_with_a_one_line_reason(self):
        code, out = health()
        assert code == 1
        assert out == "UNHEALTHY: no live supervisor (none heartbeat in the last 5s)"

    def test_live_supervisor_worker_and_dispatcher_are_healthy(self):
        register("supervisor", "worker", "worker", "dispatcher")
        code, out = health()
        assert (code, out) == (
            0,
            "OK: alive 1 supervisor, 2 worker, 1 dispatcher, 0 scheduler; 0 failed",
        )

    def test_a_heartbeat_older_than_the_alive_threshold_does_not_count(self):
        threshold = get_config().process_alive_threshold
        register("supervisor", "dispatcher")
        register("worker", ago=threshold + 1)
        code, out = health()
        assert code == 1
        assert out.startswith("UNHEALTHY: no live worker")
        assert health("--require", "supervisor,dispatcher")[0] == 0

    def test_this_host_counts_only_processes_registered_here(self):
        register("supervisor", "worker", "dispatcher")
        Process.objects.update(hostname="elsewhere")
        code, out = health("--this-host")
        assert code == 1
        assert "no live supervisor on " in out
        assert health()[0] == 0

    def test_latency_over_the_limit_is_unhealthy_unless_the_queue_is_paused(self):
        register("supervisor", "worker", "dispatcher")
        tasks.add.using(queue_name="slow").enqueue(1, 2)
        ReadyExecution.objects.update(created_at=timezone.now() - timedelta(seconds=90))
        code, out = health("--max-latency", "60")
        assert code == 1
        assert out.startswith("UNHEALTHY: queue 'slow' latency 90.")
        assert out.endswith("s >= --max-latency 60s")
        assert health("--max-latency", "120")[0] == 0
        Pause.objects.pause("slow")
        assert health("--max-latency", "60")[0] == 0

    def test_failed_jobs_at_the_limit_are_unhealthy(self):
        register("supervisor", "worker", "dispatcher")
        for _ in range(3):
            tasks.fail.enqueue("boom")
        perform_enqueued_jobs()
        assert health("--max-failed", "4")[0] == 0
        assert health("--max-failed", "3") == (1, "UNHEALTHY: 3 failed jobs >= --max-failed 3")
        assert health("--max-failed", "2") == (
            1,
            "UNHEALTHY: more than 2 failed jobs >= --max-failed 2",
        )

    def test_json_for_machines(self):
        register("supervisor", "worker", "dispatcher")
        tasks.add.enqueue(1, 2)
        code, out = health("--json", "--max-latency", "60", "--max-failed", "10")
        verdict = json.loads(out)
        assert code == 0
        assert verdict["healthy"] is True
        assert verdict["processes"] == {"supervisor": 1, "worker": 1, "dispatcher": 1}
        assert list(verdict["latency"]) == ["default"]
        assert verdict["failed"] == 0
        assert verdict["reason"].startswith("OK: ")

    def test_an_unknown_kind_is_refused(self):
        with pytest.raises(Exception, match="unknown process kind 'workers'"):
            call_command("solidq_health", "--require", "workers")


def manage(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m django ...`` on the test database, as an operator's probe runs it."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        **{
            f"SOLIDQ_TEST_DB_NAME_{alias.upper()}": str(connections[alias].settings_dict["NAME"])
            for alias in connections
        },
    }
    return subprocess.run(
        [sys.executable, "-m", "django", *args, "--settings=tests.settings"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.process
@pytest.mark.django_db(transaction=True)
def test_health_fails_within_one_alive_threshold_of_killing_runjobs(runjobs):
    supervisor = runjobs()
    wait_for(lambda: health()[0] == 0, timeout=30, what="runjobs to report healthy")
    probe = manage("solidq_health")
    assert probe.returncode == 0, probe.stdout + probe.stderr
    assert probe.stdout.startswith("OK: alive 1 supervisor, 1 worker, 1 dispatcher")

    os.killpg(supervisor.pid, signal.SIGKILL)  # the supervisor and every child, no goodbye
    killed = time.monotonic()
    threshold = get_config().process_alive_threshold
    wait_for(lambda: health()[0] == 1, timeout=threshold + 2, what="health to fail")
    assert time.monotonic() - killed <= threshold + 1

    # The first heartbeat to go stale may be a child's (each process beats on its own
    # clock): the probe names what it found missing first. Every heartbeat is older than the
    # kill, so within one threshold of it the supervisor is named too.
    probe = manage("solidq_health")
    assert probe.returncode == 1
    assert probe.stdout.strip().startswith("UNHEALTHY: no live "), probe.stdout
    assert len(probe.stdout.strip().splitlines()) == 1
    wait_for(
        lambda: health()[1].startswith("UNHEALTHY: no live supervisor"),
        timeout=max(0.0, killed + threshold + 2 - time.monotonic()),
        what="the supervisor to be named",
    )


@pytest.mark.process
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_is_replaced_and_health_stays_ok(runjobs):
    runjobs()
    wait_for(lambda: health()[0] == 0, timeout=30, what="runjobs to report healthy")
    [worker] = Process.objects.filter(kind="worker")

    os.kill(worker.pid, signal.SIGKILL)

    wait_for(
        lambda: Process.objects.filter(kind="worker").exclude(pid=worker.pid).exists(),
        timeout=30,
        what="a replacement worker",
    )
    code, out = health()
    assert code == 0, out
    assert not Process.objects.filter(pid=worker.pid).exists()  # the dead one's row is gone
