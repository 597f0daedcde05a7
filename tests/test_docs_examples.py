"""Examples of docs pages that have no example module of their own, run as written."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


def module_of_first_block(page: str, name: str) -> types.ModuleType:
    block = re.search(r"^```python\n(.*?)^```$", (DOCS / page).read_text(), re.M | re.S)
    assert block is not None
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(block.group(1), f"docs/{page}", "exec"), module.__dict__)
    return module


@pytest.fixture
def concurrency_example():
    yield module_of_first_block("concurrency.md", "concurrency_example")
    del sys.modules["concurrency_example"]


@pytest.mark.django_db
def test_the_concurrency_keys_take_positional_and_keyword_calls(concurrency_example):
    charge, refund, report = (
        concurrency_example.charge,
        concurrency_example.refund,
        concurrency_example.build_report,
    )
    backend = charge.get_backend()

    def key(task, *args, **kwargs):
        job, _ = backend.prepare(task, args, kwargs)
        return job.concurrency_key or job.unique_key

    assert key(charge, 7, 100) == "billing/7"
    assert key(charge, account_id=7, amount=100) == "billing/7"
    assert key(refund, 7, amount=5) == "billing/7"
    assert key(report, "sales", "2026-01-01") == "concurrency_example.build_report/sales:2026-01-01"
    assert key(report, report="sales", day="2026-01-01") == key(report, "sales", "2026-01-01")
