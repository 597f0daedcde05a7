"""SQL expressions the queue's queries share with the indexes built for them."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.sql.compiler import SQLCompiler


class ArgumentsText(models.Func):
    """A job's positional and keyword arguments as one text: what the admin searches.

    On PostgreSQL ``UPPER()`` of it (as ``icontains`` writes it) is exactly the expression of
    the trigram index ``solidq_job_arguments_trgm`` (migration 0002), so a search for any
    3+ characters of argument text reads that index instead of every job.
    """

    output_field = models.TextField()
    arity = 2

    def __init__(self) -> None:
        super().__init__(models.F("args"), models.F("kwargs"))

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="(%(expressions)s::text)",
            arg_joiner="::text || ' ' || ",
            **extra,
        )

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> Any:
        return self.as_sql(
            compiler, connection, template="(%(expressions)s)", arg_joiner=" || ' ' || ", **extra
        )

    def as_mysql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> Any:
        # JSON cast to text is binary-collated: compare in a case-insensitive collation.
        return self.as_sql(
            compiler,
            connection,
            template="CONCAT(CAST(%(expressions)s AS CHAR)) COLLATE utf8mb4_unicode_ci",
            arg_joiner=" AS CHAR), ' ', CAST(",
            **extra,
        )
