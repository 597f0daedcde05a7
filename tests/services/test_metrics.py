"""Prometheus metrics: counters fed by the job signals, gauges read at scrape time, the view,
multiprocess mode with a real ``runjobs``, and django_solidq without prometheus-client."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from django.db import connections
from django.tasks import TaskResultStatus, default_task_backend
from django.urls import path
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from django_solidq.metrics import metrics_view
from django_solidq.models import Pause, Process, ReadyExecution
from django_solidq.testing import perform_enqueued_jobs
from tests.app import tasks
from tests.harness import REPO, wait_for

urlpatterns = [path("metrics/", metrics_view)]
ADD = "tests.app.tasks.add"
FAIL = "tests.app.tasks.fail"


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db
@pytest.mark.urls("tests.services.test_metrics")
class TestScrape:
    def test_job_counters_and_durations_per_task_and_queue(self, client, counter_file):
        before = scrape(client)
        tasks.add.enqueue(1, 2)
        tasks.add.using(queue_name="other").enqueue(3, 4)
        tasks.fail.enqueue("boom")
        perform_enqueued_jobs()
        after = scrape(client)

        def delta(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        assert delta("solidq_jobs_enqueued_total", task=ADD, queue="default") == 1
        assert delta("solidq_jobs_enqueued_total", task=ADD, queue="other") == 1
        assert delta("solidq_jobs_started_total", task=ADD, queue="default") == 1
        assert delta("solidq_jobs_succeeded_total", task=ADD, queue="other") == 1
        assert delta("solidq_jobs_failed_total", task=FAIL, queue="default") == 1
        assert delta("solidq_jobs_succeeded_total", task=FAIL, queue="default") == 0
        assert delta("solidq_job_duration_seconds_count", task=ADD, queue="default") == 1
        assert delta("solidq_job_duration_seconds_count", task=FAIL, queue="default") == 1

    def test_retries_and_discards_are_counted(self, client, counter_file):
        scripted = "tests.app.tasks.scripted"
        before = scrape(client)
        tasks.scripted.enqueue(str(counter_file), ["gateway", "fatal"])
        perform_enqueued_jobs(at=timedelta(seconds=30))  # retried once, then discarded
        after = scrape(client)

        def delta(name):
            labels = {"task": scripted, "queue": "default"}
            return value(after, name, **labels) - value(before, name, **labels)

        assert delta("solidq_jobs_retried_total") == 1
        assert delta("solidq_jobs_discarded_total") == 1
        assert delta("solidq_jobs_failed_total") == 0
        assert delta("solidq_job_duration_seconds_count") == 2

    def test_queue_gauges_and_live_processes_come_from_the_tables(self, client):
        Process.objects.register("worker", "w1")
        Process.objects.register("supervisor", "s1")
        for _ in range(3):
            tasks.add.using(queue_name="reports").enqueue(1, 1)
        tasks.add.using(
            queue_name="reports", run_after=timezone.now() + timedelta(hours=1)
        ).enqueue(1, 1)
        ReadyExecution.objects.update(created_at=timezone.now() - timedelta(seconds=42))
        Pause.objects.pause("reports")

        samples = scrape(client)

        assert value(samples, "solidq_queue_jobs", queue="reports", state="pending") == 3
        assert value(samples, "solidq_queue_jobs", queue="reports", state="scheduled") == 1
        assert 42 <= value(samples, "solidq_queue_latency_seconds", queue="reports") < 60
        assert value(samples, "solidq_queue_paused", queue="reports") == 1
        assert value(samples, "solidq_processes_alive", kind="worker") == 1
        assert value(samples, "solidq_processes_alive", kind="dispatcher") == 0


@pytest.fixture
def counter_file(tmp_path):
    return tmp_path / "counter"


@pytest.mark.process
@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("tests.services.test_metrics")
def test_counters_from_runjobs_child_processes_reach_the_view(
    runjobs, client, tmp_path, monkeypatch
):
    directory = tmp_path / "prometheus"
    directory.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    results = [tasks.add.using(queue_name="metrics").enqueue(i, i) for i in range(3)]
    failed = tasks.fail.using(queue_name="metrics").enqueue("boom")

    runjobs(config={"WORKERS": [{"queues": ["metrics"], "threads": 2, "processes": 2}]})
    wait_for(
        lambda: all(
            default_task_backend.get_result(r.id).status
            in (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED)
            for r in [*results, failed]
        ),
        timeout=30,
        what="the jobs to finish",
    )

    samples = wait_for(
        lambda: (
            (s := scrape(client))
            and value(s, "solidq_jobs_succeeded_total", task=ADD, queue="metrics") == 3
            # the failure's signal is sent after its result is committed, so
            # the result can read FAILED a moment before the counter moves
            and value(s, "solidq_jobs_failed_total", task=FAIL, queue="metrics") == 1
            and s
        ),
        timeout=10,
        what="the children's counters",
    )
    assert value(samples, "solidq_jobs_started_total", task=ADD, queue="metrics") == 3
    assert value(samples, "solidq_job_duration_seconds_count", task=ADD, queue="metrics") == 3
    assert any(name.startswith("counter_") for name in os.listdir(directory))


@pytest.mark.django_db(transaction=True)
def test_without_prometheus_client_everything_else_works():
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        sys.modules["prometheus_client"] = None  # not installed
        import django
        django.setup()
        from django.core.management import call_command
        from django.test import RequestFactory
        import django_solidq
        from django_solidq import metrics
        assert not metrics.available()
        response = metrics.metrics_view(RequestFactory().get("/metrics/"))
        assert response.status_code == 501, response.status_code
        assert b"pip install 'django_solidq[prometheus]'" in response.content
        failed = []
        for module in pkgutil.walk_packages(django_solidq.__path__, "django_solidq."):
            try:
                importlib.import_module(module.name)
            except ImportError:
                failed.append(module.name)
        assert failed == [
            "django_solidq.metrics.collector", "django_solidq.metrics.counters"
        ], failed
        call_command("check")
        call_command("runjobs", "--check")
        print("fine")
        """
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(REPO),
        **{  # the test databases, as runjobs subprocesses get them
            f"SOLIDQ_TEST_DB_NAME_{alias.upper()}": str(connections[alias].settings_dict["NAME"])
            for alias in connections
        },
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("fine")
