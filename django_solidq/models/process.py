"""Process: the registry of supervisors, workers, dispatchers and schedulers."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import Any

from django.db import models
from django.utils import timezone

from django_solidq.exceptions import JobTimeout, ProcessPrunedError

from .base import QueueQuerySet, queue_atomic
from .claimed_execution import ClaimedExecution, ClaimedExecutionQuerySet, Loss


class ProcessQuerySet(QueueQuerySet["Process"]):
    def register(
        self, kind: str, name: str, supervisor_id: int | None = None, **metadata: Any
    ) -> Process:
        return self.create(
            kind=kind,
            name=name,
            pid=os.getpid(),
            hostname=socket.gethostname(),
            supervisor_id=supervisor_id,
            metadata=metadata,
        )

    def orphaned_claims(self) -> ClaimedExecutionQuerySet:
        """Claims whose process row is gone, read in one statement: a claim that exists when
        it runs has its process registered before it, so a process starting meanwhile (another
        supervisor's, in a rolling deploy) never has its fresh claims taken for orphans."""
        return ClaimedExecution.objects.exclude(process_id__in=self.values("id"))

    def stale(self, alive_threshold: float) -> ProcessQuerySet:
        cutoff = timezone.now() - timedelta(seconds=alive_threshold)
        return self.filter(last_heartbeat_at__lt=cutoff)

    def prune(self, alive_threshold: float, excluding: int | None = None) -> tuple[int, list[Loss]]:
        """Delete processes that stopped heartbeating; re-run the jobs they held. Returns how
        many were pruned, and the attempts lost with them."""
        pruned, losses = 0, []
        stale = self.stale(alive_threshold)
        if excluding is not None:
            stale = stale.exclude(id=excluding)
        for process in stale:
            losses += process.deregister(
                lost_with=(ProcessPrunedError, f"{process} stopped heartbeating")
            )
            pruned += 1
        return pruned, losses


ProcessManager = models.Manager.from_queryset(ProcessQuerySet)


class Process(models.Model):
    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=32)
    name = models.CharField(max_length=255, unique=True)
    pid = models.IntegerField()
    hostname = models.CharField(max_length=255)
    supervisor_id = models.BigIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    last_heartbeat_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ProcessManager()

    class Meta:
        db_table = "solidq_processes"
        verbose_name_plural = "processes"
        indexes = [
            models.Index(fields=["last_heartbeat_at"], name="solidq_process_heartbeat"),
            models.Index(fields=["supervisor_id"], name="solidq_process_supervisor"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} (pid {self.pid} on {self.hostname})"

    def heartbeat(self) -> bool:
        """Refresh the heartbeat; False means this row is gone and the process must stop."""
        return bool(Process.objects.filter(id=self.id).update(last_heartbeat_at=timezone.now()))

    def note_timed_out(self, job_ids: list[str]) -> None:
        """Record jobs that ignored their timeout, for whoever recovers this process's claims."""
        metadata = {**self.metadata, "timed_out": job_ids}
        Process.objects.filter(id=self.id).update(metadata=metadata)

    def claims(self) -> ClaimedExecutionQuerySet:
        return ClaimedExecution.objects.filter(process_id=self.id)

    def deregister(self, lost_with: tuple[type[BaseException], str] | None = None) -> list[Loss]:
        """Remove the row. Its claims go back to ready: untouched after a graceful stop, or
        recorded as lost attempts (``lost_with``) when the process died or was pruned; those
        are returned. (Claims a dead worker never started are released before, untouched:
        ``claims().unstarted(...)``.)"""
        losses = []
        if lost_with is None:
            self.claims().release_all()
        else:
            timed_out = self.metadata.get("timed_out", [])
            if timed_out:
                losses += (
                    self.claims()
                    .filter(job_id__in=timed_out)
                    .recover_lost(JobTimeout, f"still running {self} past its timeout and grace")
                )
            losses += self.claims().recover_lost(*lost_with)
        with queue_atomic():
            Process.objects.filter(id=self.id).delete()
        return losses
