"""Pause: a queue that workers skip until it is resumed."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from .base import QueueQuerySet


class PauseQuerySet(QueueQuerySet["Pause"]):
    def pause(self, queue_name: str) -> None:
        self.get_or_create(queue_name=queue_name)

    def resume(self, queue_name: str) -> None:
        self.filter(queue_name=queue_name).delete()

    def is_paused(self, queue_name: str) -> bool:
        return self.filter(queue_name=queue_name).exists()


PauseManager = models.Manager.from_queryset(PauseQuerySet)


class Pause(models.Model):
    id = models.BigAutoField(primary_key=True)
    queue_name = models.CharField(max_length=128, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = PauseManager()

    class Meta:
        db_table = "solidq_pauses"
        # The Queues page's Pause / Resume buttons (migration 0003 moved it here from Job,
        # with its grants: the name stays ``django_solidq.pause_queue``).
        permissions = [("pause_queue", "Can pause and resume queues")]

    def __str__(self) -> str:
        return f"paused {self.queue_name}"
