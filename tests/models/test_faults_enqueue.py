"""An enqueue whose connection dies at commit: the caller gets a result for a job stored once,
or an error for a job not stored — never an error for a job that will run, never two jobs."""

from __future__ import annotations

import pytest
from django.db import OperationalError, transaction
from django.tasks import TaskResultStatus

from django_solidq.backend import enqueue_all
from django_solidq.models import Job, ReadyExecution
from django_solidq.models.job import JobQuerySet
from tests.app import tasks
from tests.faults import Budget, lost_after, rolled_back

pytestmark = pytest.mark.django_db(transaction=True)


def stored_ids() -> list[str]:
    return sorted(str(pk) for pk in Job.objects.values_list("id", flat=True))


@pytest.fixture
def reply_lost(monkeypatch):
    """The next enqueue commits; then its connection dies before the reply."""
    for name in ("enqueue", "enqueue_all"):
        original = getattr(JobQuerySet, name)
        monkeypatch.setattr(JobQuerySet, name, lost_after(original, Budget(name, 1, 1), bool))


@pytest.fixture
def commit_lost(monkeypatch):
    """The next enqueue writes; then its connection dies before the commit (rolled back)."""
    for name in ("enqueue", "enqueue_all"):
        original = getattr(JobQuerySet, name)
        monkeypatch.setattr(JobQuerySet, name, rolled_back(original, Budget(name, 1, 1)))


def test_an_enqueue_whose_reply_was_lost_returns_its_stored_job(reply_lost):
    result = tasks.add.enqueue(1, 2)
    assert result.status == TaskResultStatus.READY
    assert stored_ids() == [result.id]
    assert ReadyExecution.objects.filter(job_id=result.id).count() == 1


def test_an_enqueue_rolled_back_with_its_connection_is_stored_once_by_the_retry(commit_lost):
    result = tasks.add.enqueue(1, 2)
    assert stored_ids() == [result.id]
    assert ReadyExecution.objects.filter(job_id=result.id).count() == 1


def test_a_unique_enqueue_whose_reply_was_lost_holds_its_key_once(reply_lost):
    first = tasks.build_report.enqueue("q3")
    again = tasks.build_report.enqueue("q3")
    assert again.id == first.id
    assert Job.objects.count() == 1


def test_enqueue_all_whose_reply_was_lost_returns_every_stored_job(reply_lost):
    results = enqueue_all([tasks.add.bind(i, 1) for i in range(5)])
    assert stored_ids() == sorted(r.id for r in results)
    assert ReadyExecution.objects.count() == 5


def test_enqueue_all_rolled_back_with_its_connection_is_stored_once_by_the_retry(commit_lost):
    results = enqueue_all([tasks.add.bind(i, 1) for i in range(5)])
    assert stored_ids() == sorted(r.id for r in results)


def test_an_enqueue_inside_the_callers_transaction_raises_as_it_is(reply_lost):
    with pytest.raises(OperationalError), transaction.atomic():
        tasks.add.enqueue(1, 2)
