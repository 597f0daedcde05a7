"""Shared by the runners of the ``django.tasks`` systems (ours, dj-queue, django-tasks-db)."""

from __future__ import annotations

import os
import sys
from typing import Any

SETTINGS = "benchmarks.peers.django_settings"


def prepare() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def truncate(prefix: str) -> None:
    """Empty every table of the system (``prefix``), on PostgreSQL or SQLite."""
    from django.db import connection

    tables = [t for t in connection.introspection.table_names() if t.startswith(prefix)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if tables:
                names = ", ".join(f'"{t}"' for t in tables)
                cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            with connection.constraint_checks_disabled():
                for table in tables:
                    cursor.execute(f'DELETE FROM "{table}"')


def single(n: int) -> dict[str, Any]:
    from benchmarks.peers import _common
    from benchmarks.peers.django_tasks import line

    return _common.time_single(line.enqueue, n)


def latency(n: int, spacing: float) -> dict[str, Any]:
    from benchmarks.peers import _common
    from benchmarks.peers.django_tasks import line

    return _common.paced(line.enqueue, n, spacing)


def versions(*dists: str) -> dict[str, Any]:
    import importlib.metadata as md

    out = {"python": sys.version.split()[0]}
    for dist in ("Django", *dists):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = "?"
    return out
