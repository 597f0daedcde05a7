"""Database settings shared by the demo project and the tests.

``database("sqlite" | "postgres" | "mysql")`` returns a DATABASES entry for the local
servers (PostgreSQL on 127.0.0.1:5432 user postgres, MariaDB on 127.0.0.1:3306 user root);
``SOLIDQ_PG_*`` / ``SOLIDQ_MYSQL_*`` environment variables override host, port and user.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def database(vendor: str, name: str, sqlite_path: Path) -> dict[str, Any]:
    if vendor == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(sqlite_path),
            # The test database must be a file too: runjobs subprocesses share it.
            "TEST": {"NAME": str(sqlite_path.with_name(f"test-{sqlite_path.name}"))},
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    if vendor in ("postgres", "postgresql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": os.environ.get("SOLIDQ_PG_USER", "postgres"),
            "HOST": os.environ.get("SOLIDQ_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("SOLIDQ_PG_PORT", "5432"),
            "CONN_MAX_AGE": None,
        }
    if vendor in ("mysql", "mariadb"):
        return {
            "ENGINE": "django.db.backends.mysql",
            "NAME": name,
            "USER": os.environ.get("SOLIDQ_MYSQL_USER", "root"),
            "PASSWORD": os.environ.get("SOLIDQ_MYSQL_PASSWORD", ""),
            "HOST": os.environ.get("SOLIDQ_MYSQL_HOST", "127.0.0.1"),
            "PORT": os.environ.get("SOLIDQ_MYSQL_PORT", "3306"),
            "CONN_MAX_AGE": None,
            "OPTIONS": {"charset": "utf8mb4", "isolation_level": "read committed"},
            "TEST": {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"},
        }
    raise ValueError(f"Unknown database {vendor!r}: use sqlite, postgres or mysql.")
