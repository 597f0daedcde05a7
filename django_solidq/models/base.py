"""What every queue model shares: the queue database and its transactions."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.apps import apps
from django.db import models

from django_solidq.conf import queue_database
from django_solidq.ops import ops_for

if TYPE_CHECKING:
    from .blocked_execution import BlockedExecution
    from .claimed_execution import ClaimedExecution
    from .failed_execution import FailedExecution
    from .job import Job
    from .ready_execution import ReadyExecution
    from .recurring_execution import RecurringExecution
    from .scheduled_execution import ScheduledExecution
    from .semaphore import Semaphore

M = TypeVar("M", bound=models.Model)


class Tables:
    """The queue tables by role, looked up when called through Django's app registry, as a
    string relation (``ForeignKey("Job")``) is. A job and its executions move rows between one
    another (freeing a permit readies a blocked job, discarding a ready one frees a permit), so
    their modules refer to each other through this instead of importing each other in a circle."""

    @staticmethod
    @functools.cache
    def _model(name: str) -> Any:
        # Cached: enqueue, claim and finish look tables up per call, and a model class never
        # changes once the registry holds it (a lookup before then raises and is not cached).
        return apps.get_model("django_solidq", name)

    @property
    def job(self) -> type[Job]:
        return cast("type[Job]", self._model("Job"))

    @property
    def ready(self) -> type[ReadyExecution]:
        return cast("type[ReadyExecution]", self._model("ReadyExecution"))

    @property
    def scheduled(self) -> type[ScheduledExecution]:
        return cast("type[ScheduledExecution]", self._model("ScheduledExecution"))

    @property
    def blocked(self) -> type[BlockedExecution]:
        return cast("type[BlockedExecution]", self._model("BlockedExecution"))

    @property
    def claimed(self) -> type[ClaimedExecution]:
        return cast("type[ClaimedExecution]", self._model("ClaimedExecution"))

    @property
    def failed(self) -> type[FailedExecution]:
        return cast("type[FailedExecution]", self._model("FailedExecution"))

    @property
    def semaphore(self) -> type[Semaphore]:
        return cast("type[Semaphore]", self._model("Semaphore"))

    @property
    def recurring_execution(self) -> type[RecurringExecution]:
        return cast("type[RecurringExecution]", self._model("RecurringExecution"))


tables = Tables()


@contextmanager
def queue_atomic() -> Iterator[str]:
    """A transaction on the queue database (its vendor's kind: ``BEGIN IMMEDIATE`` on
    SQLite); yields its alias. Inside another transaction it joins it without a savepoint."""
    using = queue_database()
    with ops_for(using).atomic(using):
        yield using


class QueueQuerySet(models.QuerySet[M]):
    """Base queryset: every query of a queue table goes to ``SOLIDQ['DATABASE']`` explicitly
    (routers don't steer transactions, so nothing is left to them)."""

    def __init__(
        self,
        model: type[M] | None = None,
        query: Any = None,
        using: str | None = None,
        hints: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(model, query, using or queue_database(), hints)


def field_named(obj: models.Model, name: str) -> models.Field[Any, Any]:
    field = obj._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field
