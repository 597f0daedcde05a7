"""Dispatcher: promotes due scheduled jobs to ready, batch after batch."""

from __future__ import annotations

import time
from typing import Any

from django_solidq import hooks
from django_solidq.conf import DispatcherConfig
from django_solidq.models import BlockedExecution, ScheduledExecution, Semaphore
from django_solidq.runtime.polling import quiet_polling
from django_solidq.runtime.process import Registered


class Dispatcher(Registered):
    kind = "dispatcher"

    def __init__(self, config: DispatcherConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config

    def metadata(self) -> dict[str, Any]:
        return {
            "polling_interval": self.config.polling_interval,
            "batch_size": self.config.batch_size,
        }

    def run(self) -> None:
        """A full batch means more may be due: go again without sleeping."""
        next_maintenance = time.monotonic()
        while self.keep_running():
            if time.monotonic() >= next_maintenance:
                self._maintain_concurrency()
                next_maintenance = time.monotonic() + self.config.concurrency_maintenance_interval
            if self._dispatch() < self.config.batch_size:
                self.sleep(self.config.polling_interval)

    def _maintain_concurrency(self) -> None:
        """Free expired permits, then release blocked jobs that waited past their expiry."""
        with hooks.reported("concurrency maintenance"):
            Semaphore.objects.prune_expired()
            BlockedExecution.objects.unblock_expired()

    def _dispatch(self) -> int:
        with hooks.reported("dispatcher"), quiet_polling():
            return ScheduledExecution.objects.dispatch_next_batch(self.config.batch_size)
        return 0
