"""Semaphore: permits left per concurrency key, and the locks behind unique keys.

Every transition that changes what a job holds goes through the job-level methods here
(``take_unique``, ``release_for``), so permits and unique keys are taken and given back in one
place and in one lock order: unique keys, then concurrency permits, each sorted by key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from django_solidq.concurrency import limit_of, unique_of
from django_solidq.conf import get_config

from .base import QueueQuerySet, tables

if TYPE_CHECKING:
    from .job import Job

UNIQUE_PREFIX = "unique:"


class SemaphoreQuerySet(QueueQuerySet["Semaphore"]):
    def expired(self) -> SemaphoreQuerySet:
        return self.filter(expires_at__lte=timezone.now())

    def prune_expired(self) -> int:
        """Concurrency maintenance: delete expired permit semaphores (a permit lost with its
        holder must not block its key forever) and free unique-key rows. A taken unique key
        never expires: it is held exactly while its job is live (see ``take_unique``)."""
        taken_unique = Q(key__startswith=UNIQUE_PREFIX, value=0)
        deleted, _ = self.expired().exclude(taken_unique).delete()
        return deleted

    def wait(self, key: str, limit: int, duration: timedelta) -> bool:
        """Take a permit for ``key``; False if none is free. Call inside a transaction: the
        semaphore row stays locked until it commits, so a release cannot slip between this
        check and the caller blocking its job (no lost wake-ups)."""
        semaphore = self._locked(key, limit, duration)
        if semaphore is None:
            return True  # created with the permit taken
        if semaphore.value <= 0:
            return False
        self.filter(id=semaphore.id).update(
            value=F("value") - 1, expires_at=timezone.now() + duration
        )
        return True

    def _locked(self, key: str, limit: int, duration: timedelta) -> Semaphore | None:
        """``key``'s row, locked until the transaction ends; None if it did not exist and was
        created now with one permit taken."""
        semaphore = self.select_for_update().filter(key=key).first()
        if semaphore is not None:
            return semaphore
        try:
            with transaction.atomic(using=self.db):
                self.create(
                    key=key, value=limit - 1, limit=limit, expires_at=timezone.now() + duration
                )
            return None
        except IntegrityError:  # created meanwhile by another transaction
            return self.select_for_update().get(key=key)

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

    # --- what a job holds --------------------------------------------------------------

    def take_unique(self, job: Job) -> Job | None:
        """Take ``job``'s unique key. Returns None when the job now holds it, else the live
        job that does (nothing changes then).

        The key's row serialises every taker; whether the key is taken is decided by asking
        for a live job with the key, not by the row's counter, so a key is held exactly while
        a live job has it — whatever expired or was left behind. Call inside a transaction.
        """
        assert job.unique_key
        rule = unique_of(job.task_path)
        lasts = rule.duration if rule else timedelta(days=1)
        key = UNIQUE_PREFIX + job.unique_key
        created = self._locked(key, 1, lasts) is None  # created taken, or locked as it was
        holder = (
            tables.job.objects.live().filter(unique_key=job.unique_key).exclude(pk=job.pk).first()
        )
        if holder is None and not created:
            self.filter(key=key).update(value=0, expires_at=timezone.now() + lasts)
        return holder

    def release_for(self, jobs: Sequence[Job], unique: bool, permit: bool) -> None:
        """Give back what these jobs held: their unique keys (the jobs ended) and their
        concurrency permits (the jobs stopped running or left the ready table). A freed permit
        goes straight to the next blocked job of its key. Call inside the transaction that
        makes the change, so nothing is held or given back twice."""
        if unique:
            for key in sorted({j.unique_key for j in jobs if j.unique_key}):
                self.signal(UNIQUE_PREFIX + key, timedelta(days=1))
        if permit:
            for job in sorted((j for j in jobs if j.concurrency_key), key=_permit_key):
                self._release_permit(job)

    def _release_permit(self, job: Job) -> None:
        key = job.concurrency_key
        assert key is not None
        limit = limit_of(job.task_path)
        lasts = (
            limit.lasts if limit else timedelta(seconds=get_config().default_concurrency_duration)
        )
        # Lock the key's semaphore first: an enqueue blocking a job on this key holds the same
        # lock, so once we have it every blocked job of the key is visible to us.
        self.lock(key)
        if not tables.blocked.objects.release_next(key, handing_over=True):
            self.signal(key, lasts)


def _permit_key(job: Job) -> str:
    return job.concurrency_key or ""


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
