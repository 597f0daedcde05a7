"""The options table of docs/recurring.md, written from the field table (``ENTRY_FIELDS``): a
test fails when the two differ; ``scripts/reference-docs`` rewrites it."""

from __future__ import annotations

import json
from pathlib import Path

from django_solidq.conf.reference import replace_between, rewrite
from django_solidq.models.recurring_task import ENTRY_FIELDS, REQUIRED, EntryField

BEGIN = "<!-- options: generated from ENTRY_FIELDS by scripts/reference-docs; do not edit -->"
END = "<!-- end of the generated options -->"


def _default(field: EntryField) -> str:
    if field.default is REQUIRED:
        return "required"
    return "`None`" if field.default is None else f"`{json.dumps(field.default)}`"


def reference() -> str:
    """The options table, Markdown, markers included."""
    lines = [
        BEGIN,
        "",
        "| key | default | type | check | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for field in ENTRY_FIELDS:
        check = field.check_id.removeprefix("django_solidq.")
        cells = (f"`{field.option}`", _default(field), field.kind, f"`{check}`", field.meaning)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join([*lines, "", END]) + "\n"


def replace_in(text: str) -> str:
    """``text`` (docs/recurring.md) with its options table rewritten."""
    return replace_between(text, BEGIN, END, reference())


def write(path: Path) -> bool:
    """Rewrite the options table in the file at ``path``; whether it changed."""
    return rewrite(path, replace_in)
