"""Semaphore: permits left per concurrency key."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from .base import QueueQuerySet


class SemaphoreQuerySet(QueueQuerySet["Semaphore"]):
    def expired(self) -> SemaphoreQuerySet:
        return self.filter(expires_at__lte=timezone.now())


SemaphoreManager = models.Manager.from_queryset(SemaphoreQuerySet)


class Semaphore(models.Model):
    id = models.BigAutoField(primary_key=True)
    key = models.CharField(max_length=255, unique=True)
    value = models.IntegerField(default=1)
    limit = models.IntegerField(default=1)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = SemaphoreManager()

    class Meta:
        db_table = "solidq_semaphores"
        indexes = [
            models.Index(fields=["key", "value"], name="solidq_semaphore_key_value"),
            models.Index(fields=["expires_at"], name="solidq_semaphore_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(value__gte=0) & models.Q(value__lte=models.F("limit")),
                name="solidq_semaphore_value_range",
            )
        ]

    def __str__(self) -> str:
        return f"semaphore {self.key} ({self.value}/{self.limit} left)"
