"""Is the job system healthy? Live processes, queue latency and failed jobs, each measured
with a few indexed queries, for ``manage.py solidq_health`` and the metrics collector."""

from __future__ import annotations

import socket
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from .conf import get_config
from .models import FailedExecution, Process, reporting

KINDS = ("supervisor", "worker", "dispatcher", "scheduler")


def alive_processes(hostname: str | None = None, now: datetime | None = None) -> Counter[str]:
    """How many processes of each kind heartbeat within the alive threshold."""
    cutoff = (now or timezone.now()) - timedelta(seconds=get_config().process_alive_threshold)
    rows = Process.objects.filter(last_heartbeat_at__gte=cutoff)
    if hostname is not None:
        rows = rows.filter(hostname=hostname)
    return Counter(rows.values_list("kind", flat=True))


def queue_latencies(now: datetime | None = None) -> dict[str, float]:
    """Seconds the oldest ready job of each unpaused queue has waited (queues with ready
    jobs only): one grouped query for all queues, and the pauses."""
    now = now or timezone.now()
    paused = reporting.paused_queues()
    return {
        name: max(0.0, (now - oldest).total_seconds())
        for name, oldest in sorted(reporting.oldest_ready().items())
        if name not in paused
    }


def failed_count(cap: int) -> int:
    """Failed jobs, counted up to ``cap + 1`` so a huge table is never counted whole."""
    return FailedExecution.objects.all()[: cap + 1].count()


@dataclass
class Health:
    """The verdict of ``check``: ``reason`` is one line, the first problem found or a summary."""

    healthy: bool
    reason: str
    processes: dict[str, int] = field(default_factory=dict)
    latency: dict[str, float] = field(default_factory=dict)
    failed: int = 0
    hostname: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check(
    require: tuple[str, ...] = ("supervisor", "worker", "dispatcher"),
    max_latency: float | None = None,
    max_failed: int | None = None,
    this_host: bool = False,
) -> Health:
    """Healthy when every ``require``d kind has a live process (on this host only, with
    ``this_host``), no unpaused queue's oldest ready job waited ``max_latency`` seconds or
    more, and fewer than ``max_failed`` jobs are failed."""
    hostname = socket.gethostname() if this_host else None
    alive = alive_processes(hostname)
    latency = queue_latencies() if max_latency is not None else {}
    failed = failed_count(max_failed) if max_failed is not None else 0
    health = Health(True, "", dict(alive), latency, failed, hostname)
    health.reason = _problem(health, require, max_latency, max_failed) or _summary(health)
    health.healthy = not health.reason.startswith("UNHEALTHY")
    return health


def _problem(
    health: Health, require: tuple[str, ...], max_latency: float | None, max_failed: int | None
) -> str | None:
    threshold = get_config().process_alive_threshold
    where = f" on {health.hostname}" if health.hostname else ""
    for kind in require:
        if not health.processes.get(kind):
            return f"UNHEALTHY: no live {kind}{where} (none heartbeat in the last {threshold:g}s)"
    slow = {name: wait for name, wait in health.latency.items() if wait >= (max_latency or 0)}
    if max_latency is not None and slow:
        name = max(slow, key=slow.__getitem__)
        return (
            f"UNHEALTHY: queue {name!r} latency {slow[name]:.1f}s >= --max-latency {max_latency:g}s"
        )
    if max_failed is not None and health.failed >= max_failed:
        count = f"more than {max_failed}" if health.failed > max_failed else str(health.failed)
        return f"UNHEALTHY: {count} failed jobs >= --max-failed {max_failed}"
    return None


def _summary(health: Health) -> str:
    alive = ", ".join(f"{health.processes.get(kind, 0)} {kind}" for kind in KINDS)
    parts = [f"OK: alive {alive}"]
    if health.latency:
        parts.append(f"max latency {max(health.latency.values()):.1f}s")
    parts.append(f"{health.failed} failed")
    return "; ".join(parts)
