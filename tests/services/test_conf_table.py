"""The settings table: the reference in docs/configuration.md is the one the table writes, the
Config has a row for every field, and a Config can be built from any raw value."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from django.test import override_settings

from django_solidq.conf import (
    DISPATCHER_SETTINGS,
    SETTINGS,
    WORKER_DEFAULTS,
    WORKER_SETTINGS,
    Config,
    get_config,
    queue_database,
    usable_config,
    validate,
)
from django_solidq.conf.__main__ import main
from django_solidq.conf.reference import BEGIN, END, reference, replace_in
from django_solidq.models.recurring_task import ENTRY_FIELDS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_the_docs_reference_is_the_tables():
    text = DOCS.read_text()
    assert replace_in(text) == text, (
        "docs/configuration.md's reference differs from the settings table: run "
        "`python -m django_solidq.conf --write docs/configuration.md`"
    )


def test_every_key_is_in_the_reference_with_its_default_kind_and_meaning():
    text = reference()
    assert text.startswith(BEGIN) and text.rstrip().endswith(END)
    for row in (*SETTINGS, *WORKER_SETTINGS, *DISPATCHER_SETTINGS):
        cells = (
            f"| `{row.name}` | {row.kind.show(row.default)} | {row.kind.described} | "
            f"`{row.check_id.removeprefix('django_solidq.')}`"
        )
        assert any(line.startswith(cells) and row.meaning in line for line in text.splitlines())
        assert "|" not in row.meaning  # one Markdown cell


def test_the_command_line_prints_the_reference(capsys):
    assert main(["--reference"]) == 0
    assert capsys.readouterr().out == reference()


def test_the_defaults_are_valid_and_build_the_default_config():
    assert validate({}) == []
    with override_settings(SOLIDQ={}):
        config = get_config()
    assert {f.name for f in dataclasses.fields(Config)} == {row.attribute for row in SETTINGS}
    for row in SETTINGS:
        if row.name not in ("WORKERS", "DISPATCHERS"):
            assert getattr(config, row.attribute) == row.kind.convert(row.default)
    assert config.workers[0].queues == ("*",) and config.dispatchers[0].batch_size == 500


@pytest.mark.parametrize(
    "raw",
    [
        ["not", "a", "dict"],
        {"DATABASE": 5, "WORKERS": "x", "SHUTDOWN_TIMEOUT": -1},
        {"WORKERS": [{"threads": -1}, "not a dict"], "RECURRING": []},
    ],
)
def test_the_usable_config_replaces_what_is_invalid_by_its_default(raw):
    assert validate(raw)
    with override_settings(SOLIDQ=raw):
        config = usable_config()
        assert queue_database() == "default"
    assert config.shutdown_timeout == 5.0 and config.recurring == {}
    assert all(worker.threads == WORKER_DEFAULTS["threads"] for worker in config.workers)


def test_an_unknown_alias_is_kept_so_that_its_queries_fail_loudly():
    with override_settings(SOLIDQ={"DATABASE": "elsewhere"}):
        assert queue_database() == "elsewhere"
        assert [p.id for p in validate({"DATABASE": "elsewhere"})] == ["django_solidq.E009"]


def test_every_check_id_of_the_tables_is_in_the_system_checks_table():
    text = DOCS.read_text().partition("## System checks")[2]
    ids = {row.check_id for row in (*SETTINGS, *WORKER_SETTINGS, *DISPATCHER_SETTINGS)}
    ids |= {row.kind.environment_id for row in SETTINGS if row.kind.environment_id}
    ids |= {field.check_id for field in ENTRY_FIELDS}
    for check_id in ids:
        assert f"| `{check_id}` |" in text, check_id


@pytest.mark.parametrize(
    ("worker", "limit"),
    [
        ({}, 40),  # the defaults: 10 threads, 4 ahead each
        ({"threads": 1}, 40),  # at least 40: few threads, fast jobs still claim in batches
        ({"threads": 25}, 100),
        ({"threads": 128}, 512),
        ({"threads": 25, "prefetch": 0}, 0),  # as set, whatever the threads
        ({"threads": 25, "prefetch": 7}, 7),
    ],
)
def test_prefetch_by_default_scales_with_the_threads(worker, limit):
    with override_settings(SOLIDQ={"WORKERS": [worker]}):
        (config,) = get_config().workers
    assert config.prefetch == worker.get("prefetch")  # the setting as given
    assert config.prefetch_limit == limit
