"""QueueRouter: keep the queue tables in their own database (Solid Queue's ``connects_to``).

```python
DATABASES = {"default": {...}, "queue": {...}}
DATABASE_ROUTERS = ["django_solidq.routers.QueueRouter"]
SOLIDQ = {"DATABASE": "queue"}
```
then ``manage.py migrate --database=queue``. Queries of the queue models already go to
``SOLIDQ["DATABASE"]`` explicitly; the router makes migrations, the admin and anything else
that consults routers agree, and keeps the queue tables out of the other databases.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Model

from .conf import queue_database

APP_LABEL = "django_solidq"


def _is_queue_model(model: type[Model] | Model) -> bool:
    return model._meta.app_label == APP_LABEL


class QueueRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        return queue_database() if _is_queue_model(model) else None

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return queue_database() if _is_queue_model(model) else None

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        if _is_queue_model(obj1) and _is_queue_model(obj2):
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if app_label == APP_LABEL:
            return db == queue_database()
        if db == queue_database() and db != DEFAULT_DB_ALIAS:
            return False  # a database of its own holds the queue tables and nothing else
        return None
