"""The portable operations: Django's ORM, as MariaDB/MySQL run them (and SQLite, with its own
transactions). The other implementations override what their database does better."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import connections, models, transaction

from django_solidq.arguments import json_size_bound

from .rows import raw_delete

CHANNEL = "solidq_ready"  # PostgreSQL's NOTIFY channel: jobs became ready
BULK_BATCH = 1000
# Bytes of job arguments per bulk INSERT: well under MariaDB/MySQL's default
# max_allowed_packet (16 MB for the whole statement, which it refuses as "server has gone
# away"); one job may carry up to arguments.MAX_SIZE alone.
BULK_BYTES = 4_000_000
ROW_BYTES = 400  # a job row's other columns, roughly, as SQL text


def size_batches(jobs: Sequence[Any], max_rows: int, max_bytes: int) -> Iterator[Sequence[Any]]:
    """``jobs`` in order, in slices of at most ``max_rows`` jobs whose rows take at most about
    ``max_bytes`` (a job bigger than that goes alone): one statement each."""
    start, size = 0, 0
    for index, job in enumerate(jobs):
        row = ROW_BYTES + json_size_bound(job.args, job.kwargs)
        if index > start and (index - start >= max_rows or size + row > max_bytes):
            yield jobs[start:index]
            start, size = index, 0
        size += row
    if start < len(jobs):
        yield jobs[start:]


class PortableOps:
    vendor = "portable"

    @contextmanager
    def atomic(self, using: str) -> Iterator[str]:
        """A transaction on ``using``; yields the alias. Inside another transaction (the
        caller's, or another transition's) it joins it without a savepoint, which would cost
        two more round trips: an error fails the whole, as a half-done transition would need."""
        with transaction.atomic(using=using, savepoint=False):
            yield using

    def notify_ready(self, using: str) -> None:
        """Tell idle workers that jobs became ready (a no-op where workers poll)."""

    def enqueue(self, jobs: Any, job: Any) -> None:
        """Store a plain job (no limit, no unique key) with its ready or scheduled row."""
        with self.atomic(jobs.db):
            job.save(using=jobs.db, force_insert=True)
            job.enter(job.scheduled_at)

    def enqueue_all(
        self, jobs: Any, ready: Any, scheduled: Any, plain: Sequence[Any], now: datetime
    ) -> None:
        """Store plain jobs and their ready or scheduled rows (inside a transaction)."""
        for batch in size_batches(plain, BULK_BATCH, BULK_BYTES):
            jobs.bulk_create(batch)
        ready.add((j.pk, j.queue_name, j.priority) for j in plain if j.is_due(now))
        scheduled.bulk_create(
            [
                scheduled.model(
                    job=j, queue_name=j.queue_name, priority=j.priority, scheduled_at=j.scheduled_at
                )
                for j in plain
                if not j.is_due(now)
            ],
            batch_size=BULK_BATCH,
        )

    def claim(
        self,
        ready: Any,
        claimed: Any,
        jobs: Any,
        selectors: Sequence[str],
        limit: int,
        process_id: int | None,
    ) -> list[Any]:
        """Take up to ``limit`` ready rows, selector by selector, skipping paused queues and
        rows other workers hold; returns their jobs in claim order, each with its claim."""
        with self.atomic(ready.db):
            picked: list[tuple[int, Any]] = []
            for selector in selectors:
                picked += ready.lock_candidates(selector, limit - len(picked), picked)
                if len(picked) >= limit:
                    break
            if not picked:
                return []
            ready.delete_rows([ready_id for ready_id, _ in picked])
            claims = claimed.bulk_create(
                [claimed.model(job_id=job_id, process_id=process_id) for _, job_id in picked]
            )
        found = {str(job.pk): job for job in jobs.filter(id__in=[c.job_id for c in claims])}
        ordered = []
        for claim in claims:
            job = found[str(claim.job_id)]
            job.claimedexecution = claim
            ordered.append(job)
        return ordered

    def finish(
        self, claims: Any, jobs: Any, done: Sequence[Any], fields: Sequence[str], preserve: bool
    ) -> set[str]:
        """Delete the claims of the ``done`` jobs and write their ``fields`` (or delete the
        jobs, without ``preserve``). Returns the ids of jobs whose claims were still there."""
        by_claim = {job.claimed.id: job for job in done if job.claimed}
        with self.atomic(claims.db):
            held = list(
                claims.filter(id__in=by_claim).select_for_update().values_list("id", flat=True)
            )
            if not held:
                return set()
            raw_delete(claims.filter(id__in=held))
            finished = [by_claim[claim_id] for claim_id in held]
            if preserve:
                self.update_each(finished, fields, claims.db)
            else:
                raw_delete(jobs.filter(id__in=[job.pk for job in finished]))
        return {str(job.pk) for job in finished}

    def hand_over(self, blocked: Any, ready: Any, key: str) -> bool:
        """Move the next blocked job of ``key`` to ready with the permit of a job that just
        stopped (the caller holds the key's semaphore lock); False if none is blocked."""
        with self.atomic(blocked.db):
            row = blocked.locked_next(key)
            if row is None:
                return False
            blocked.delete_rows([row[0]])
            ready.add([(row[1], row[3], row[4])])
        return True

    def update_each(self, objs: Sequence[models.Model], fields: Sequence[str], using: str) -> None:
        """``UPDATE … WHERE pk = …`` for each object, sent with ``executemany``.

        Django's ``bulk_update`` builds a CASE expression per object and field, which costs more
        than the database work for the small batches a worker finishes; one parameterised
        statement run for each row (pipelined by psycopg 3) does not.
        """
        if not objs:
            return
        connection = connections[using]
        meta = objs[0]._meta
        columns = [meta.get_field(name) for name in fields]
        pk = meta.pk
        assert pk is not None
        quote = connection.ops.quote_name
        sql = "UPDATE {} SET {} WHERE {} = %s".format(
            quote(meta.db_table),
            ", ".join(f"{quote(str(field.column))} = %s" for field in columns),  # type: ignore[union-attr]
            quote(str(pk.column)),
        )
        rows = [
            [
                *(
                    field.get_db_prep_save(getattr(obj, field.attname), connection)  # type: ignore[union-attr]
                    for field in columns
                ),
                pk.get_db_prep_value(obj.pk, connection),
            ]
            for obj in objs
        ]
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
