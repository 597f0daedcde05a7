"""Bulk enqueue in statements of bounded size: MariaDB/MySQL refuse a statement over
``max_allowed_packet`` (16 MB by default) as "server has gone away", so ``enqueue_all`` of
many jobs whose arguments are each well within ``arguments.MAX_SIZE`` must still go in."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from django_solidq import enqueue_all
from django_solidq.arguments import json_size_bound
from django_solidq.models import Job, ReadyExecution
from django_solidq.ops.portable import ROW_BYTES, size_batches
from tests.app import tasks


def job(size: int) -> SimpleNamespace:
    return SimpleNamespace(args=["x" * size], kwargs={})


def test_batches_keep_the_order_and_stop_at_the_row_count():
    jobs = [job(0) for _ in range(25)]
    batches = list(size_batches(jobs, max_rows=10, max_bytes=10**9))
    assert [len(b) for b in batches] == [10, 10, 5]
    assert [j for b in batches for j in b] == jobs


def test_batches_stop_at_the_byte_budget_and_a_big_job_goes_alone():
    jobs = [job(5_000), job(5_000), job(50_000), job(10), job(10)]
    batches = list(size_batches(jobs, max_rows=100, max_bytes=12_000))
    assert [len(b) for b in batches] == [2, 1, 2]
    for batch in batches:
        sizes = [ROW_BYTES + json_size_bound(j.args, j.kwargs) for j in batch]
        assert len(batch) == 1 or sum(sizes) <= 12_000


def test_no_jobs_make_no_batch():
    assert list(size_batches([], max_rows=10, max_bytes=100)) == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(args=st.lists(JSON, max_size=4), kwargs=st.dictionaries(st.text(), JSON, max_size=4))
def test_the_size_bound_is_never_below_the_stored_json(args, kwargs):
    assert json_size_bound(args, kwargs) >= len(json.dumps([args, kwargs]))


@pytest.mark.django_db(transaction=True)
def test_enqueue_all_of_more_than_a_packet_of_arguments_stores_every_job():
    # 1,000 jobs of 20 kB each: 20 MB of arguments, over MariaDB's default packet of 16 MB
    values = [f"{i:05d}" + "x" * 20_000 for i in range(1_000)]
    results = enqueue_all([tasks.echo.bind(value) for value in values])
    assert len(results) == 1_000
    stored = {str(pk): args for pk, args in Job.objects.values_list("id", "args")}
    assert [stored[r.id][0] for r in results] == values
    assert ReadyExecution.objects.count() == 1_000
