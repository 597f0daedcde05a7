"""Is the PostgreSQL / MariaDB server for the tests and the demo reachable?

Used by ``tests/conftest.py``, ``scripts/test`` and ``scripts/demo``::

    python -m testproject.dbcheck postgres                 # exit 0 if reachable, else 1
    python -m testproject.dbcheck mysql --create solidq_demo

Host, port and user come from ``testproject.dbconfig`` (``SOLIDQ_PG_*`` / ``SOLIDQ_MYSQL_*``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from testproject.dbconfig import database

START_COMMANDS = {
    "postgres": ("pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"),
    "mysql": "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
}
SERVER_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL", "mysql": "MariaDB/MySQL"}


def canonical(vendor: str) -> str:
    return {"postgresql": "postgres", "mariadb": "mysql"}.get(vendor, vendor)


def describe(vendor: str) -> str:
    """'PostgreSQL at 127.0.0.1:5432 (user postgres)'."""
    vendor = canonical(vendor)
    if vendor == "sqlite":
        return "SQLite"
    cfg = _settings(vendor)
    return f"{SERVER_NAMES[vendor]} at {cfg['HOST']}:{cfg['PORT']} (user {cfg['USER']})"


def start_hint(vendor: str) -> str:
    vendor = canonical(vendor)
    return f"start it (as root) with: {START_COMMANDS[vendor]}" if vendor in START_COMMANDS else ""


def _settings(vendor: str) -> dict[str, Any]:
    return database(vendor, name="", sqlite_path=Path("unused.sqlite3"))


def _connect(vendor: str, timeout: float, dbname: str | None = None) -> Any:
    cfg = _settings(vendor)
    if vendor == "postgres":
        import psycopg

        return psycopg.connect(
            host=cfg["HOST"],
            port=int(cfg["PORT"]),
            user=cfg["USER"],
            dbname=dbname or "postgres",
            connect_timeout=max(1, int(timeout)),
            autocommit=True,
        )
    import MySQLdb

    kwargs: dict[str, Any] = {"database": dbname} if dbname else {}
    return MySQLdb.connect(
        host=cfg["HOST"],
        port=int(cfg["PORT"]),
        user=cfg["USER"],
        password=cfg["PASSWORD"],
        connect_timeout=max(1, int(timeout)),
        **kwargs,
    )


def server_error(vendor: str, timeout: float = 3.0) -> str | None:
    """None if the server answers a trivial query, else why not (one line)."""
    vendor = canonical(vendor)
    if vendor == "sqlite":
        return None
    if vendor not in START_COMMANDS:
        return f"unknown database {vendor!r}: use sqlite, postgres or mysql"
    try:
        conn = _connect(vendor, timeout)
        try:
            cursor = conn.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchall()
        finally:
            conn.close()
    except Exception as exc:  # driver missing, refused, timeout, auth...
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"{type(exc).__name__}: {first_line}"
    return None


def create_database(vendor: str, name: str) -> bool:
    """Create database ``name`` if it is missing; True if it was created."""
    vendor = canonical(vendor)
    if vendor == "sqlite":
        return False
    conn = _connect(vendor, 5.0)
    try:
        cursor = conn.cursor()
        if vendor == "postgres":
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone():
                return False
            cursor.execute(f'CREATE DATABASE "{name}"')
            return True
        cursor.execute("SHOW DATABASES LIKE %s", [name])
        if cursor.fetchone():
            return False
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        return True
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vendor", choices=["sqlite", "postgres", "postgresql", "mysql", "mariadb"])
    parser.add_argument("--timeout", type=float, default=3.0)
    parser.add_argument("--create", metavar="NAME", help="create this database if missing")
    parser.add_argument("--quiet", "-q", action="store_true")
    args = parser.parse_args(argv)
    error = server_error(args.vendor, args.timeout)
    if error:
        if not args.quiet:
            print(f"{describe(args.vendor)} is not reachable: {error}", file=sys.stderr)
        return 1
    if args.create:
        created = create_database(args.vendor, args.create)
        if not args.quiet:
            print(f"database {args.create!r} {'created' if created else 'already exists'}")
    elif not args.quiet:
        print(f"{describe(args.vendor)} is reachable")
    return 0


if __name__ == "__main__":
    sys.exit(main())
