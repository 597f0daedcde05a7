"""Migration operations of our own: PostgreSQL-only indexes (GIN) the portable ``Index``
cannot declare. Importable, so migrations that use them can be squashed and serialized."""

from __future__ import annotations

import warnings
from typing import Any

from django.db import DatabaseError, router, transaction
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation


class PostgresIndex(Operation):
    """``CREATE INDEX`` on PostgreSQL only; other databases do without it.

    ``extension`` is created first if missing. When the extension or the index cannot be
    made (no privilege, the extension in a schema off the search path), ``migrate`` warns
    and goes on: the queries the index speeds up then scan. Reversed by dropping the index.
    """

    reversible = True
    reduces_to_sql = True

    def __init__(self, name: str, sql: str, extension: str | None = None) -> None:
        self.name = name
        self.sql = sql
        self.extension = extension

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass  # no model state: the index lives outside Django's Meta.indexes

    def _applies(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor) -> bool:
        connection = schema_editor.connection
        return connection.vendor == "postgresql" and bool(
            router.allow_migrate(connection.alias, app_label, model_name="job")
        )

    def _try(self, schema_editor: BaseDatabaseSchemaEditor, sql: str, what: str) -> bool:
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                schema_editor.execute(sql)
        except DatabaseError as error:
            warnings.warn(
                f"django_solidq: could not create {what} ({error}); the admin's queries that "
                f"use the index {self.name} will scan instead. A superuser can run: {sql}",
                stacklevel=1,
            )
            return False
        return True

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: Any,
        to_state: Any,
    ) -> None:
        if not self._applies(app_label, schema_editor):
            return
        if self.extension and not self._try(
            schema_editor,
            f"CREATE EXTENSION IF NOT EXISTS {self.extension}",
            f"the PostgreSQL extension {self.extension}",
        ):
            return
        self._try(schema_editor, self.sql, f"the index {self.name}")

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: Any,
        to_state: Any,
    ) -> None:
        if self._applies(app_label, schema_editor):
            schema_editor.execute(f"DROP INDEX IF EXISTS {self.name}")

    def describe(self) -> str:
        return f"Create index {self.name} (PostgreSQL only)"

    @property
    def migration_name_fragment(self) -> str:
        return self.name.lower()
