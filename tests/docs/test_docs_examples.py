"""Examples of docs pages that have no example module of their own, run as written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


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


# The documentation site ------------------------------------------------------------------------
ROOT = DOCS.parent
CHECK_ID = re.compile(r"django_solidq\.[EWI]\d{3}")


def check_ids_in_code() -> set[str]:
    """Every check ID the code can report (a grep, so that a new one cannot be forgotten)."""
    return {
        found
        for path in (ROOT / "django_solidq").rglob("*.py")
        for found in CHECK_ID.findall(path.read_text())
    }


def solidq_keys() -> set[str]:
    """Every key of the SOLIDQ setting, of a worker entry and of a dispatcher entry."""
    from django_solidq.conf.table import DISPATCHER_SETTINGS, SETTINGS, WORKER_SETTINGS

    return {row.name for row in (*SETTINGS, *WORKER_SETTINGS, *DISPATCHER_SETTINGS)}


def test_every_check_id_has_a_section_with_its_fix_on_the_checks_page():
    page = (DOCS / "checks.md").read_text()
    documented = set(re.findall(r"^### (django_solidq\.[EWI]\d{3})$", page, re.M))
    in_code = check_ids_in_code()
    assert len(in_code) > 20
    assert sorted(in_code - documented) == [], "check IDs missing from docs/checks.md"
    assert sorted(documented - in_code) == [], "docs/checks.md documents IDs the code lacks"


def test_every_solidq_key_is_in_the_configuration_reference():
    page = (DOCS / "configuration.md").read_text()
    assert sorted(key for key in solidq_keys() if f"`{key}`" not in page) == []


@pytest.mark.skipif(
    os.environ.get("SOLIDQ_TEST_DB", "sqlite") != "sqlite",
    reason="no database involved: runs once, in the SQLite run",
)
def test_the_site_builds_and_its_search_finds_every_key_and_check_id(tmp_path):
    """What `scripts/test`'s mkdocs step runs; then the search index, as the site searches."""
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, f"{built.stderr}\n(the docs extra: bash scripts/bootstrap)"
    index = json.loads((tmp_path / "search" / "search_index.json").read_text())
    text = " ".join(f"{doc['title']} {doc['text']}" for doc in index["docs"])
    wanted = solidq_keys() | check_ids_in_code()
    assert sorted(word for word in wanted if word not in text) == []


def test_the_state_diagrams_have_every_transition_of_the_architecture_table():
    """docs/concepts.md's Mermaid diagrams and docs/architecture.md's transition table agree."""
    states = {"ready", "claimed", "scheduled", "blocked", "failed", "ended"}
    table = (DOCS / "architecture.md").read_text().split("| transition |", 1)[1]
    table = table.split("\n\n", 1)[0]
    moves = set()
    for row in table.splitlines()[2:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        source, _, targets = cells[2].partition("→")
        source = "[*]" if source.strip() in {"—", "-"} else source.strip()
        for target in re.findall(r"[a-z]+", targets):
            if target in states and target != source:
                moves.add((source, target))
    assert len(moves) > 12
    page = (DOCS / "concepts.md").read_text()
    diagrams = re.findall(r"```mermaid\nstateDiagram-v2\n(.*?)```", page, re.S)
    assert len(diagrams) == 2
    drawn = {
        move
        for diagram in diagrams
        for move in re.findall(r"^\s*(\[\*\]|\w+) --> (\w+)", diagram, re.M)
    }
    assert sorted(moves - drawn) == [], "transitions missing from the diagram"
    assert sorted(drawn - moves) == [], "the diagram has transitions the table lacks"


GUIDE_PAGES = ["tasks.md", "enqueueing.md", "retries.md", "timeouts.md", "hooks.md"]


@pytest.mark.parametrize("page", GUIDE_PAGES)
def test_the_guide_pages_show_code_of_the_examples_that_run(page):
    """Their Python blocks are copied from docs/examples/ (which test_from_solid_queue.py and
    test_testing_kit.py run), so they cannot drift from working code."""
    sources = "\n".join(path.read_text() for path in (DOCS / "examples").rglob("*.py"))
    blocks = re.findall(r"^```python\n(.*?)^```$", (DOCS / page).read_text(), re.M | re.S)
    assert blocks
    assert [block for block in blocks if block.strip() not in sources] == []


@pytest.mark.django_db
def test_reading_a_result_as_the_enqueueing_page_does(django_user_model, settings):
    from django_solidq.testing import perform_enqueued_jobs
    from docs.examples.enqueueing import delivered_to, welcome

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    user = django_user_model.objects.create_user("ada", "ada@example.com")
    result = welcome(user)
    assert delivered_to(result) is None
    perform_enqueued_jobs()
    assert delivered_to(result) == "ada@example.com"


def test_the_api_reference_lists_every_export_of_the_package_root():
    import django_solidq

    page = (DOCS / "api" / "index.md").read_text()
    assert [name for name in django_solidq.__all__ if f"`{name}`" not in page] == []


# docs/recurring.md: every phrase of Fugit's tests, with the cron line it means --------------
FUGIT_PHRASES = ROOT / "tests" / "data" / "fugit" / "fugit_nat.tsv"
PHRASES_START = "<!-- every-phrase: generated by `python -m tests.docs.test_docs_examples` -->"
PHRASES_END = "<!-- every-phrase: end -->"


def every_phrase_table() -> str:
    """The page's list of Fugit's phrases: accepted ones with their cron line, then refused."""
    import csv

    from django_solidq.schedule import InvalidSchedule, parse_schedule

    accepted, refused = [], []
    with open(FUGIT_PHRASES, newline="") as rows:
        for row in csv.DictReader(rows, delimiter="\t"):
            phrase = row["phrase"]
            try:
                accepted.append(f"| `{phrase}` | `{parse_schedule(phrase).cron}` |")
            except InvalidSchedule:
                refused.append(f"`{phrase}`")
    return "\n".join(
        [
            PHRASES_START,
            "<details markdown>",
            f"<summary>{len(accepted)} phrases and their cron lines</summary>",
            "",
            "| phrase | cron |",
            "| --- | --- |",
            *accepted,
            "",
            f"Refused ({len(refused)}), as by Solid Queue: {', '.join(refused)}.",
            "",
            "</details>",
            PHRASES_END,
        ]
    )


def test_the_recurring_page_lists_every_phrase_of_fugits_tests_with_its_cron():
    page = (DOCS / "recurring.md").read_text()
    start, end = page.index(PHRASES_START), page.index(PHRASES_END) + len(PHRASES_END)
    assert page[start:end] == every_phrase_table(), (
        "docs/recurring.md's phrase list is stale: run python -m tests.docs.test_docs_examples"
    )


if __name__ == "__main__":  # rewrite the phrase list of docs/recurring.md
    recurring = DOCS / "recurring.md"
    text = recurring.read_text()
    start, end = text.index(PHRASES_START), text.index(PHRASES_END) + len(PHRASES_END)
    recurring.write_text(text[:start] + every_phrase_table() + text[end:])
