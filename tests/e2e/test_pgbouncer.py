"""django_solidq behind PgBouncer in transaction pooling mode (Debian's ``pgbouncer``).

The test starts its own PgBouncer on a free port of 127.0.0.1 with a config in a temporary
directory, pointing at the test PostgreSQL server. Enqueue (from a separate process), claim
and finish all go through it. PostgreSQL runs only; without pgbouncer the module is
skipped, or fails under ``CI=true`` (it is installed with apt-get when we are root).

LISTEN through a transaction pooler: the LISTEN runs in one pooled server connection, which
goes back to the pool at once, so NOTIFYs never reach the worker that asked for them;
workers then find jobs by polling (``polling_interval``). See docs/deployment.md.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from django_solidq.models import Job, Process
from tests.harness import REPO, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.process,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="PgBouncer tests run on PostgreSQL (SOLIDQ_TEST_DB=postgres)",
    ),
]
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def _unavailable(message: str) -> None:
    if _in_ci():
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def _install() -> None:
    """apt-get install pgbouncer, as root; a failed install is reported by the caller."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "pgbouncer"]
    if subprocess.run(install, env=env, capture_output=True, timeout=600).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        subprocess.run(install, env=env, capture_output=True, timeout=600)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(directory: Path, port: int, server: dict[str, Any]) -> Path:
    (directory / "users.txt").write_text(f'"{server["USER"]}" ""\n')
    config = directory / "pgbouncer.ini"
    config.write_text(
        "\n".join(
            [
                "[databases]",
                f"* = host={server['HOST']} port={server['PORT']}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {directory / 'users.txt'}",
                "pool_mode = transaction",
                "default_pool_size = 4",  # fewer server connections than clients
                "max_client_conn = 200",
                "ignore_startup_parameters = extra_float_digits,options",
                f"admin_users = {server['USER']}",
                f"logfile = {directory / 'pgbouncer.log'}",
                f"pidfile = {directory / 'pgbouncer.pid'}",
                "",
            ]
        )
    )
    return config


@pytest.fixture(scope="module")
def pgbouncer() -> Iterator[int]:
    """A private PgBouncer in transaction pooling mode; yields its port."""
    if not Path(PGBOUNCER).exists():
        _install()
    if not Path(shutil.which("pgbouncer") or PGBOUNCER).exists():
        _unavailable("pgbouncer is not installed and could not be (apt-get install pgbouncer)")
    # Not pytest's tmp_path: its parents are private to root, and pgbouncer runs as postgres.
    directory = Path(tempfile.mkdtemp(prefix="solidq-pgbouncer-"))
    port = _free_port()
    config = _config(directory, port, connection.settings_dict)
    user = ["-u", "postgres"] if os.geteuid() == 0 else []  # it refuses to run as root
    if user:
        shutil.chown(directory, "postgres")
        for path in directory.iterdir():
            shutil.chown(path, "postgres")
    proc = subprocess.Popen(
        [shutil.which("pgbouncer") or PGBOUNCER, *user, str(config)],
        stdout=open(directory / "stderr.log", "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_listening(port, proc, directory)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        shutil.rmtree(directory, ignore_errors=True)


def _wait_listening(port: int, proc: subprocess.Popen[bytes], directory: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    logs = [directory / "pgbouncer.log", directory / "stderr.log"]
    tail = " ".join(log.read_text()[-1000:] for log in logs if log.exists())
    _unavailable(f"pgbouncer did not start on 127.0.0.1:{port}: {tail}")


@pytest.fixture
def through(pgbouncer: int, monkeypatch: pytest.MonkeyPatch) -> int:
    """Subprocesses started from now on (runjobs, enqueuers) connect through PgBouncer."""
    monkeypatch.setenv("SOLIDQ_PG_PORT", str(pgbouncer))
    return pgbouncer


def enqueue_through(code: str) -> None:
    """Run ``code`` in a fresh Django process connected through PgBouncer."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "SOLIDQ_TEST_DB_NAME_DEFAULT": str(connection.settings_dict["NAME"]),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    script = f"import django; django.setup()\n{code}"
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]


def pooled_server_connections(port: int) -> int:
    """Server connections PgBouncer holds for our test database (admin console)."""
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", port=port, user=connection.settings_dict["USER"], dbname="pgbouncer",
        autocommit=True, cursor_factory=psycopg.ClientCursor,
    ) as admin:  # fmt: skip
        rows = admin.execute("SHOW SERVERS").fetchall()
        names = [d.name for d in admin.cursor().execute("SHOW SERVERS").description or []]
    database = names.index("database")
    return sum(1 for row in rows if row[database] == connection.settings_dict["NAME"])


def unfinished() -> int:
    return Job.objects.filter(finished_at__isnull=True).count()


def test_jobs_enqueued_claimed_and_finished_through_transaction_pooling(through, runjobs):
    enqueue_through(
        "from django_solidq import enqueue_all\n"
        "from tests.app import tasks\n"
        "enqueue_all([tasks.add.bind(i, i) for i in range(150)])\n"
        "for i in range(50): tasks.add.enqueue(i, 1)\n"
    )
    assert Job.objects.count() == 200
    config = {"WORKERS": [{"queues": ["*"], "threads": 4, "processes": 2, "polling_interval": 0.1}]}
    supervisor = runjobs(config=config)
    wait_for(lambda: unfinished() == 0, timeout=90, interval=0.2, what="200 jobs through pgbouncer")
    assert not Job.objects.exclude(errors=[]).exists()
    assert sorted(Job.objects.values_list("return_value", flat=True))[-1] == 298
    assert pooled_server_connections(through) <= 4  # default_pool_size: pooled, not 1:1
    supervisor.send(signal.SIGTERM)
    assert supervisor.wait(20) == 0
    assert "Error" not in supervisor.log(), supervisor.log()[-3000:]


def heard_a_notify(port: int) -> bool:
    """LISTEN as the worker's listener does (its own autocommit psycopg connection), NOTIFY
    from a direct connection, and wait 2 s for it."""
    import psycopg

    settings = connection.settings_dict
    params = {"host": "127.0.0.1", "user": settings["USER"], "dbname": settings["NAME"]}
    with psycopg.connect(port=port, autocommit=True, **params) as listener:
        listener.execute("LISTEN solidq_ready")
        with psycopg.connect(port=settings["PORT"], autocommit=True, **params) as other:
            other.execute("NOTIFY solidq_ready")
        return any(True for _ in listener.notifies(timeout=2.0, stop_after=1))


def test_a_direct_listen_hears_the_notify_of_an_enqueue():
    assert heard_a_notify(int(connection.settings_dict["PORT"]))


def test_a_listen_through_transaction_pooling_never_hears_it(pgbouncer):
    """What the code does today behind a transaction pooler: the listener's LISTEN runs in
    whichever server connection PgBouncer lends for that one statement, which goes back to
    the pool at once; the NOTIFY never reaches the worker."""
    assert not heard_a_notify(pgbouncer)


def test_idle_workers_behind_transaction_pooling_find_new_jobs_by_polling(through, runjobs):
    config = {"WORKERS": [{"queues": ["*"], "threads": 1, "polling_interval": 1.0}]}
    supervisor = runjobs(config=config)
    wait_for(lambda: Process.objects.filter(kind="worker").exists(), what="the worker")
    from tests.app import tasks

    delays = []
    for _ in range(4):
        began = time.monotonic()
        result = tasks.add.enqueue(1, 2)
        wait_for(
            lambda rid=result.id: Job.objects.filter(id=rid, finished_at__isnull=False).exists(),
            timeout=15,
            interval=0.01,
            what="the job",
        )
        delays.append(time.monotonic() - began)  # the worker is idle again: the job finished
    print("enqueue -> finished behind pgbouncer (transaction pooling):", delays)
    assert max(delays) < 1.0 + 1.5  # the polling interval, plus claim, run and finish
    supervisor.send(signal.SIGTERM)
    assert supervisor.wait(20) == 0
