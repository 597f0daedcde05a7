"""``runjobs --queues a,b --threads N --processes N``: a one-off worker instead of the
configured ones; checked with ``--check`` and with a real subprocess."""

from __future__ import annotations

import io
import re
import shlex
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command, load_command_class
from django.tasks import TaskResultStatus, default_task_backend

from django_solidq.management.commands.runjobs import overridden_workers
from django_solidq.models import Job, Process
from tests.app import tasks
from tests.harness import wait_for


def check(*args: str) -> str:
    out = io.StringIO()
    call_command("runjobs", "--check", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
class TestPlan:
    def test_no_flag_keeps_the_configured_workers(self):
        assert overridden_workers(None, None, None) is None
        assert "worker (3 threads, queues *, polling 0.05s); dispatcher" in check()

    def test_queues_replace_the_configured_workers_with_one(self, settings):
        settings.SOLIDQ = {
            **settings.SOLIDQ,
            "WORKERS": [
                {"queues": ["default"], "threads": 5, "polling_interval": 0.2},
                {"queues": ["mail"], "threads": 2},
            ],
        }
        out = check("--queues", "reports, exports*")
        assert (
            "running 3 processes: worker (10 threads, queues reports,exports*, polling 0.2s); "
            "dispatcher" in out
        )

    def test_threads_and_processes_override_every_worker(self, settings):
        settings.SOLIDQ = {
            **settings.SOLIDQ,
            "WORKERS": [{"queues": ["default"], "threads": 5}, {"queues": ["mail"]}],
        }
        [default, mail] = overridden_workers(None, 1, 2)
        assert (default.queues, default.threads, default.processes) == (("default",), 1, 2)
        assert (mail.queues, mail.threads, mail.processes) == (("mail",), 1, 2)
        assert check("--threads", "1", "--processes", "2").count("worker (1 threads") == 4

    @pytest.mark.parametrize(
        ("flag", "value", "error"),
        [
            ("--queues", " , ", "give at least one queue name"),
            ("--threads", "0", "must be a whole number >= 1, got '0'"),
            ("--processes", "two", "must be a whole number >= 1, got 'two'"),
        ],
    )
    def test_bad_values_are_refused_with_what_to_do(self, flag, value, error):
        with pytest.raises(CommandError, match=error):
            call_command("runjobs", "--check", flag, value)


@pytest.mark.process
@pytest.mark.django_db(transaction=True)
def test_a_one_off_worker_takes_jobs_only_from_the_named_queues(runjobs):
    elsewhere = tasks.add.using(queue_name="c", priority=100).enqueue(0, 0)  # first, most urgent
    named = [tasks.add.using(queue_name=q).enqueue(i, 1) for i, q in enumerate("abab")]

    runjobs("--queues", "a,b", "--threads", "1", "--processes", "2", "--only-workers")

    wait_for(
        lambda: all(
            default_task_backend.get_result(r.id).status == TaskResultStatus.SUCCESSFUL
            for r in named
        ),
        timeout=30,
        what="the jobs of queues a and b",
    )
    workers = wait_for(
        lambda: (
            list(Process.objects.filter(kind="worker"))
            if Process.objects.filter(kind="worker").count() == 2
            else None
        ),
        what="two worker processes",
    )
    assert {tuple(w.metadata["queues"]) for w in workers} == {("a", "b")}
    assert {w.metadata["threads"] for w in workers} == {1}
    assert not Process.objects.filter(kind="dispatcher").exists()
    job = Job.objects.get(id=elsewhere.id)
    assert (job.worker_ids, job.finished_at) == ([], None)  # queue c: never claimed


@pytest.mark.django_db(databases=[])
def test_every_command_line_of_the_operations_page_parses():
    page = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    code = "\n".join(re.findall(r"^```\w*\n(.*?)^```$", page, re.M | re.S))
    lines = re.findall(r"manage\.py\W+((?:runjobs|solidq_health)[^\n'|)\]]*)", code)
    assert len(lines) >= 8
    for line in lines:
        name, *args = shlex.split(
            line.split(" #")[0].replace('",', " ").replace('"', "").rstrip("\\ ")
        )
        parser = load_command_class("django_solidq", name).create_parser("manage.py", name)
        parser.parse_args([arg for arg in args if arg not in ("||", "exit", "1", "&")])
