"""Prometheus metrics (``pip install django_solidq[prometheus]``): job counters and durations
counted where jobs are enqueued and performed, and queue depth, latency and live processes
read from the tables when Prometheus scrapes ``metrics_view``.

Without ``prometheus-client`` installed nothing here is active and ``metrics_view`` answers
501 with what to install. See docs/operations.md (multiprocess mode for ``runjobs``).
"""

from __future__ import annotations

import importlib.util
import os
from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

__all__ = ["available", "install", "metrics_view", "registry"]


def available() -> bool:
    """Whether ``prometheus-client`` can be imported."""
    try:
        return importlib.util.find_spec("prometheus_client") is not None
    except ValueError:  # a module set to None in sys.modules
        return False


def install() -> None:
    """Count jobs in this process (called by the app's ``ready()``; a no-op without
    ``prometheus-client``)."""
    if available():
        from .counters import connect  # late import: prometheus_client is optional

        connect()


def registry() -> CollectorRegistry:
    """A registry with every django_solidq metric: the job counters (summed over every
    process writing to ``PROMETHEUS_MULTIPROC_DIR`` when it is set, else this process's) and
    the queue collector."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    from .collector import QueueCollector  # late import: prometheus_client is optional
    from .counters import INSTRUMENTS  # late import: prometheus_client is optional

    fresh = CollectorRegistry(auto_describe=True)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(fresh)
    else:
        for instrument in INSTRUMENTS:
            fresh.register(instrument)
    fresh.register(QueueCollector())
    return fresh


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus exposition of ``registry()``: add
    ``path("metrics/", metrics_view)`` to your URLs (and protect it as you see fit)."""
    if not available():
        return HttpResponse(
            "prometheus-client is not installed: pip install 'django_solidq[prometheus]'.\n",
            status=501,
            content_type="text/plain",
        )
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
