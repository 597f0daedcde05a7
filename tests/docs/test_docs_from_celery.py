"""docs/from-celery.md: its examples (docs/examples/celery/, included in the page) run, and
every Python block of the page is one of them or Celery's own code, marked as such."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.tasks import TaskResultStatus
from django.utils import timezone

from django_solidq.models import Job
from django_solidq.schedule import parse_schedule
from django_solidq.testing import assert_enqueued, perform_enqueued_jobs
from docs.examples.celery import settings as celery_settings
from docs.examples.celery import tasks, usage

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "from-celery.md"

pytestmark = pytest.mark.django_db


def test_every_python_block_is_an_included_example_or_marked_celery():
    # Included blocks are fenced ```{.python} (ruff formats ```python blocks of Markdown, and
    # would rewrite the --8<-- lines).
    blocks = re.findall(r"^```(\S*)([^\n]*)\n(.*?)^```$", PAGE.read_text(), re.M | re.S)
    assert blocks
    for language, info, body in blocks:
        if language not in {"python", "py", "{.python}"}:
            continue
        if 'title="Celery' in info:
            continue  # Celery's code, shown for comparison: Celery is not installed here
        includes = re.findall(r'^--8<-- "(docs/examples/celery/[^":]+)(?::(\w+))?"$', body, re.M)
        assert includes and len(includes) == len(body.strip().splitlines()), body
        for path, name in includes:
            text = (ROOT / path).read_text()
            assert not name or f"# --8<-- [start:{name}]" in text, (path, name)


def test_tasks_run_like_celery_tasks():
    result = usage.now()
    assert result.status == TaskResultStatus.READY
    [done] = perform_enqueued_jobs()
    assert done.return_value == 5
    assert usage.outcome(result.id) == "done: 5"
    assert tasks.send_email.queue_name == "emails"
    assert tasks.send_email.priority == 10


def test_countdown_eta_queue_and_priority():
    soon = usage.in_ten_minutes()
    tomorrow = usage.at_nine_tomorrow()
    bulk = usage.elsewhere()
    assert_enqueued(tasks.add, args=[2, 3], run_after=timedelta(minutes=10))
    nine = Job.objects.get(id=tomorrow.id).scheduled_at.astimezone(timezone.get_current_timezone())
    assert (nine.hour, nine.minute) == (9, 0)
    assert nine.date() == timezone.localdate() + timedelta(days=1)
    assert_enqueued(tasks.send_email, queue="bulk", priority=-10)
    assert [r.id for r in perform_enqueued_jobs()] == [bulk.id]  # the only one due now
    assert usage.outcome(soon.id) == "ready, attempt 0"
    done = perform_enqueued_jobs(at=timedelta(days=2))
    assert {r.id for r in done} == {soon.id, tomorrow.id}


def test_bind_becomes_takes_context():
    result = tasks.fetch_page.enqueue("https://example.com")
    [done] = perform_enqueued_jobs()
    assert done.return_value == {"job": result.id, "attempt": 1}


def test_autoretry_becomes_retry_on(monkeypatch):
    def down(url: str) -> str:
        raise tasks.GatewayError(url)

    monkeypatch.setattr(tasks.gateway, "fetch", down)
    result = tasks.crawl.enqueue("https://example.com")
    perform_enqueued_jobs()
    assert usage.outcome(result.id) == "ready, attempt 1"  # its retry waits, scheduled
    perform_enqueued_jobs(at=timedelta(hours=1))
    final = tasks.crawl.get_result(result.id)
    assert final.status == TaskResultStatus.FAILED
    assert final.attempts == 6
    assert usage.outcome(result.id) == "failed: docs.examples.celery.tasks.GatewayError"


def test_group_chain_and_chord():
    results = usage.sum_many([(1, 2), (3, 4)])
    assert [r.return_value for r in perform_enqueued_jobs()] == [3, 7]
    assert [tasks.add.get_result(r.id).return_value for r in results] == [3, 7]

    tasks.download.enqueue("https://example.com")
    done = perform_enqueued_jobs()  # and the job the first one enqueued
    assert [r.task.name for r in done] == ["download", "extract_links"]

    album = tasks.resize_album([1, 2, 3])
    perform_enqueued_jobs(at=timedelta(minutes=1))
    assert tasks.publish_album.get_result(album).return_value == 12


def test_the_chord_callback_waits_for_its_parts():
    part = tasks.resize.enqueue(5)
    callback = tasks.publish_album.using(priority=100).enqueue([part.id])
    [first] = perform_enqueued_jobs(only=tasks.publish_album)
    assert first.status == TaskResultStatus.READY  # PartsPending: retried in 5 seconds
    perform_enqueued_jobs(only=tasks.resize)
    perform_enqueued_jobs(at=timedelta(seconds=30))
    assert tasks.publish_album.get_result(callback.id).return_value == 10


def test_the_beat_schedule_is_a_valid_recurring_setting(settings):
    settings.SOLIDQ = celery_settings.SOLIDQ
    problems = [p for p in run_checks() if p.id.startswith("django_solidq.")]
    assert problems == []
    after = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.get_current_timezone())  # a Friday
    recurring = celery_settings.SOLIDQ["RECURRING"]
    assert parse_schedule(recurring["report"]["schedule"]).cron == "30 7 * * 1-5"
    assert parse_schedule(recurring["poll"]["schedule"]).next_time(after) == after + timedelta(
        seconds=30
    )
