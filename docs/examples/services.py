"""Stand-ins for the outside services the jobs talk to (a payment gateway, an error tracker,
a metrics client, a search index). Swap in your real clients; the tests inspect these."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from typing import Any


class PaymentGatewayError(Exception):
    """The gateway is down or timed out: worth retrying."""


class InvalidCardError(Exception):
    """The card was declined: retrying will not help."""


class PaymentGateway:
    def charge(self, order_id: int) -> str:
        return f"ch_{order_id}"

    def pending_order_ids(self) -> list[int]:
        return []


class ErrorTracker:
    """Sentry, Rollbar, Honeybadger...: here it only remembers what it was told."""

    def __init__(self) -> None:
        self.notices: list[tuple[BaseException, dict[str, Any]]] = []

    def notify(self, exception: BaseException, **context: Any) -> None:
        self.notices.append((exception, context))


class Metrics:
    """A StatsD/Datadog-style client: counters and timings with tags."""

    def __init__(self) -> None:
        self.counters: Counter[tuple[str, ...]] = Counter()
        self.timings: list[tuple[str, float, tuple[str, ...]]] = []

    def increment(self, name: str, tags: Iterable[str] = ()) -> None:
        self.counters[(name, *tags)] += 1

    def timing(self, name: str, seconds: float, tags: Iterable[str] = ()) -> None:
        self.timings.append((name, seconds, tuple(tags)))


class SearchIndex:
    def update(self, chunk: int) -> None:
        time.sleep(0.01)  # a slow call to a search engine


payment_gateway = PaymentGateway()
error_tracker = ErrorTracker()
metrics = Metrics()
search_index = SearchIndex()
