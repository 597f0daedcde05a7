"""Gauges read from the queue tables at scrape time: a few grouped queries for all queues."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.db import DatabaseError
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from django_solidq.health import KINDS, alive_processes
from django_solidq.models import reporting

logger = logging.getLogger("django_solidq.metrics")
CAP = 10_000  # counts are reported up to CAP + 1 (one grouped count per table a scrape)
STATES = ("pending", "scheduled", "running", "failed")


class QueueCollector(Collector):
    """``solidq_queue_jobs{queue,state}``, ``solidq_queue_latency_seconds{queue}``,
    ``solidq_queue_paused{queue}`` and ``solidq_processes_alive{kind}``."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            stats = reporting.queue_stats(cap=CAP)
            alive = alive_processes()
        except DatabaseError as exc:
            logger.warning("Queue metrics skipped: the queue database failed: %s", exc)
            return
        jobs = GaugeMetricFamily(
            "solidq_queue_jobs",
            f"Jobs per queue and state (pending is ready to run; counts stop at {CAP + 1}).",
            labels=["queue", "state"],
        )
        latency = GaugeMetricFamily(
            "solidq_queue_latency_seconds",
            "How long the oldest pending job of the queue has waited (0 when none).",
            labels=["queue"],
        )
        paused = GaugeMetricFamily(
            "solidq_queue_paused", "1 if the queue is paused.", labels=["queue"]
        )
        for row in stats:
            for state in STATES:
                jobs.add_metric([row.name, state], getattr(row, state))
            wait = row.latency.total_seconds() if row.latency is not None else 0.0
            latency.add_metric([row.name], max(0.0, wait))
            paused.add_metric([row.name], 1.0 if row.paused else 0.0)
        processes = GaugeMetricFamily(
            "solidq_processes_alive",
            "Processes heartbeating within the alive threshold, by kind.",
            labels=["kind"],
        )
        for kind in KINDS:
            processes.add_metric([kind], alive.get(kind, 0))
        yield from (jobs, latency, paused, processes)
