"""Semaphore: permits left per concurrency key."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone

from .base import QueueQuerySet


class SemaphoreQuerySet(QueueQuerySet["Semaphore"]):
    def expired(self) -> SemaphoreQuerySet:
        return self.filter(expires_at__lte=timezone.now())

    def wait(self, key: str, limit: int, duration: timedelta) -> bool:
        """Take a permit for ``key``; False if none is free. Call inside a transaction: the
        semaphore row stays locked until it commits, so a release cannot slip between this
        check and the caller blocking its job (no lost wake-ups)."""
        expires_at = timezone.now() + duration
        semaphore = self.select_for_update().filter(key=key).first()
        if semaphore is None:
            try:
                with transaction.atomic(using=self.db):
                    self.create(key=key, value=limit - 1, limit=limit, expires_at=expires_at)
                return True
            except IntegrityError:  # created meanwhile by another enqueue
                semaphore = self.select_for_update().get(key=key)
        if semaphore.value <= 0:
            return False
        self.filter(id=semaphore.id).update(value=F("value") - 1, expires_at=expires_at)
        return True

    def lock(self, key: str) -> None:
        """Hold ``key``'s row lock until the transaction ends (no row: nothing to hold)."""
        list(self.select_for_update().filter(key=key).values_list("id", flat=True))

    def signal(self, key: str, duration: timedelta) -> bool:
        """Give back a permit of ``key`` (never above its limit)."""
        return bool(
            self.filter(key=key, value__lt=F("limit")).update(
                value=F("value") + 1, expires_at=timezone.now() + duration
            )
        )


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
