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
        # JSON cast to text is binary-collated, in the connection's character set: convert
        # to utf8mb4 (a utf8mb3 connection too) and compare case-insensitively.
        return self.as_sql(
            compiler,
            connection,
            template=(
                "CONVERT(CONCAT(CAST(%(expressions)s AS CHAR)) USING utf8mb4) "
                "COLLATE utf8mb4_unicode_ci"
            ),
            arg_joiner=" AS CHAR), ' ', CAST(",
            **extra,
        )


class RaisedClass(models.Func):
    """SQLite: the job has an error entry whose ``exception_class_path`` is exactly the given
    path (``json_each`` over the errors; a text match would also find longer paths and
    messages). The other databases use JSON containment instead."""

    output_field = models.BooleanField()

    def __init__(self, exception_class_path: str) -> None:
        super().__init__(models.F("errors"), models.Value(exception_class_path))

    def as_sql(  # type: ignore[override]
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        errors, path = self.get_source_expressions()
        errors_sql, errors_params = compiler.compile(errors)
        path_sql, path_params = compiler.compile(path)
        sql = (
            f"EXISTS (SELECT 1 FROM json_each({errors_sql}) "
            f"WHERE json_extract(value, '$.exception_class_path') = {path_sql})"
        )
        return sql, (*errors_params, *path_params)
