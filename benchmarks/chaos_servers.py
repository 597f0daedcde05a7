"""Private database servers for the chaos soak: started, crashed and restarted by the harness.

Each soak runs its own PostgreSQL or MariaDB instance in a temporary directory on a free
port of 127.0.0.1, so that "restart the database server" never touches the shared servers
other test runs use. Every wait is bounded; ``stop()`` always ends the server.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
PG_BIN = Path(os.environ.get("CHAOS_PG_BIN", "/usr/lib/postgresql/15/bin"))
MARIADBD = os.environ.get("CHAOS_MARIADBD", "/usr/sbin/mariadbd")
INSTALL_DB = os.environ.get("CHAOS_MARIADB_INSTALL_DB", "/usr/bin/mariadb-install-db")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


class Server:
    """What the soak needs from a database server it owns."""

    vendor = ""
    user = ""
    LONG_TRANSACTIONS = ""

    def __init__(self, dbname: str) -> None:
        self.dbname = dbname
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix=f"solidq-chaos-{self.vendor}-"))

    def settings_env(self) -> dict[str, str]:
        return {
            "CHAOS_VENDOR": self.vendor,
            "CHAOS_PORT": str(self.port),
            "CHAOS_DB_NAME": self.dbname,
        }

    def reachable(self) -> bool:
        try:
            self.connect(timeout=1, database=False).close()
        except Exception:
            return False
        return True

    def wait_up(self, timeout: float = 60) -> None:
        _wait(self.reachable, timeout, f"{self.vendor} on port {self.port}")

    def restart(self, crash: bool, down_for: float = 3.0) -> float:
        """Stop (``crash``: SIGKILL-like, no clean shutdown), stay down ``down_for`` seconds,
        start again; returns the seconds the server was unreachable."""
        began = time.monotonic()
        self.halt(crash)
        time.sleep(down_for)
        self.launch()
        self.wait_up()
        return time.monotonic() - began

    def cleanup(self) -> None:
        try:
            self.halt(crash=True)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    # Implemented per vendor ------------------------------------------------------------------
    def start(self) -> None:
        raise NotImplementedError

    def launch(self) -> None:
        raise NotImplementedError

    def halt(self, crash: bool) -> None:
        raise NotImplementedError

    def connect(self, timeout: float = 5, database: bool = True) -> Any:
        raise NotImplementedError

    def terminate_backends(self) -> int:
        raise NotImplementedError


def _as_postgres_user() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class PrivatePostgres(Server):
    vendor = "postgres"
    user = "postgres"
    # Transactions open for over 5 s (the soak's are milliseconds): age, state, query.
    LONG_TRANSACTIONS = (
        "SELECT round(extract(epoch FROM now() - xact_start)), state,"
        " coalesce(wait_event_type, ''), left(query, 150) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND xact_start < now() - interval '5 seconds' ORDER BY xact_start"
    )

    def start(self) -> None:
        self.data = self.dir / "data"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(
            [
                *_as_postgres_user(),
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        self.launch()
        self.wait_up()
        with self.connect(database=False) as conn:
            conn.execute(f'CREATE DATABASE "{self.dbname}"')

    def _pg_ctl(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [*_as_postgres_user(), str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args],
            check=True,
            capture_output=True,
            timeout=timeout,
        )

    def launch(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses={HOST} -c max_connections=300"
            " -c shared_buffers=64MB"
        )
        self._pg_ctl("-o", options, "-l", str(self.dir / "server.log"), "-w", "start")

    def halt(self, crash: bool) -> None:
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("-m", "immediate" if crash else "fast", "-w", "stop")

    def connect(self, timeout: float = 5, database: bool = True) -> Any:
        import psycopg

        return psycopg.connect(
            host=HOST,
            port=self.port,
            user=self.user,
            dbname=self.dbname if database else "postgres",
            connect_timeout=max(1, int(timeout)),
            autocommit=True,
        )

    def terminate_backends(self) -> int:
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.dbname],
            ).fetchall()
        return len(rows)


class PrivateMariaDB(Server):
    vendor = "mysql"
    user = "root"
    LONG_TRANSACTIONS = (
        "SELECT timestampdiff(SECOND, trx_started, now()), trx_state, '',"
        " left(coalesce(trx_query, ''), 150) FROM information_schema.innodb_trx"
        " WHERE trx_started < now() - INTERVAL 5 SECOND ORDER BY trx_started"
    )

    def start(self) -> None:
        self.data = self.dir / "data"
        subprocess.run(
            [
                INSTALL_DB,
                "--no-defaults",
                f"--datadir={self.data}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
        self.launch()
        self.wait_up()
        conn = self.connect(database=False)
        try:
            conn.cursor().execute(
                f"CREATE DATABASE `{self.dbname}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        finally:
            conn.close()

    def launch(self) -> None:
        self._log = open(self.dir / "server.log", "ab")
        self.proc = subprocess.Popen(
            [
                MARIADBD,
                "--no-defaults",
                f"--datadir={self.data}",
                f"--port={self.port}",
                f"--bind-address={HOST}",
                f"--socket={self.dir / 'mysqld.sock'}",
                f"--pid-file={self.dir / 'mysqld.pid'}",
                "--user=root",
                "--max-connections=400",
                "--innodb-buffer-pool-size=128M",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def halt(self, crash: bool) -> None:
        proc = getattr(self, "proc", None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGKILL if crash else signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        self._log.close()

    def connect(self, timeout: float = 5, database: bool = True) -> Any:
        import MySQLdb

        kwargs: dict[str, Any] = {"database": self.dbname} if database else {}
        conn = MySQLdb.connect(
            host=HOST,
            port=self.port,
            user=self.user,
            password="",
            connect_timeout=max(1, int(timeout)),
            **kwargs,
        )
        conn.autocommit(True)
        return conn

    def terminate_backends(self) -> int:
        conn = self.connect()
        try:
            cursor = conn.cursor()
            cursor.execute(
                "SELECT id FROM information_schema.processlist"
                " WHERE db = %s AND id <> CONNECTION_ID()",
                [self.dbname],
            )
            ids = [row[0] for row in cursor.fetchall()]
            killed = 0
            for thread_id in ids:
                try:
                    cursor.execute(f"KILL CONNECTION {int(thread_id)}")
                    killed += 1
                except Exception:  # it ended meanwhile
                    pass
            return killed
        finally:
            conn.close()


def private_server(vendor: str, dbname: str) -> Server:
    if vendor == "postgres":
        return PrivatePostgres(dbname)
    if vendor == "mysql":
        return PrivateMariaDB(dbname)
    raise ValueError(f"unknown database {vendor!r}: use postgres or mysql")
