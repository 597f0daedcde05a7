"""``manage.py solidq_health``: exit 0 when the job system is healthy, 1 with a one-line
reason when it is not (for Kubernetes probes, systemd and Docker ``HEALTHCHECK``)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from django_solidq.health import KINDS, check


def _kinds(value: str) -> tuple[str, ...]:
    kinds = tuple(kind.strip() for kind in value.split(",") if kind.strip())
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown process kind {unknown[0]!r}; use {KINDS}")
    return kinds


class Command(BaseCommand):
    help = (
        "Exit 0 if live supervisor, worker and dispatcher heartbeats exist (and queue latency "
        "and failed jobs are under the limits given), else exit 1 with a one-line reason."
    )
    requires_system_checks: list[str] = []  # a probe: fast, and its verdict is the output

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--require",
            type=_kinds,
            default=("supervisor", "worker", "dispatcher"),
            help="Comma-separated process kinds that must have a live process "
            "(default: supervisor,worker,dispatcher; also: scheduler).",
        )
        parser.add_argument(
            "--max-latency",
            type=float,
            help="Unhealthy when an unpaused queue's oldest ready job has waited this many "
            "seconds.",
        )
        parser.add_argument(
            "--max-failed", type=int, help="Unhealthy when this many jobs (or more) are failed."
        )
        parser.add_argument(
            "--this-host",
            action="store_true",
            help="Count only processes on this host (a per-container liveness probe).",
        )
        parser.add_argument("--json", action="store_true", help="Print the verdict as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            health = check(
                options["require"], options["max_latency"], options["max_failed"],
                options["this_host"],
            )  # fmt: skip
        except DatabaseError as exc:
            raise CommandError(f"UNHEALTHY: the queue database is unreachable: {exc}") from exc
        if options["json"]:
            self.stdout.write(json.dumps(health.as_dict(), sort_keys=True))
        else:
            self.stdout.write(health.reason)
        if not health.healthy:
            raise SystemExit(1)
