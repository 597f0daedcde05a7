"""docs/quickstart.md, followed as a new user would: a project made by ``django-admin
startproject``, the page's files and commands as printed, a real ``runjobs`` and the admin.

Only the first step (a virtualenv and ``pip install``) is left out: the test runs in this
virtualenv, where django_solidq is installed already. The project uses its own SQLite file, so
this test runs the same whatever SOLIDQ_TEST_DB says.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.harness import wait_for

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "quickstart.md"
EXAMPLES = ROOT / "docs" / "examples" / "quickstart"
BIN = Path(sys.executable).parent

# The commands of the page, in order, as the test runs them.
COMMANDS = [
    "django-admin startproject mysite .",
    "python manage.py startapp shop",
    "python manage.py migrate",
    "python manage.py createsuperuser --username admin --email admin@example.com",
    "python manage.py shell",
    "python manage.py runjobs",
    "python manage.py runserver",
]


def section(path: Path, name: str | None = None) -> str:
    """A file, or its ``# --8<-- [start:name]`` ... ``[end:name]`` section, as the page shows it."""
    text = path.read_text()
    if name is None:
        return text
    found = re.search(
        rf"^# --8<-- \[start:{name}\]\n(.*?)^# --8<-- \[end:{name}\]$", text, re.S | re.M
    )
    assert found, f"no section {name} in {path}"
    return found.group(1)


def shell_lines(page: str) -> list[str]:
    blocks = re.findall(r"^```sh\n(.*?)^```$", page, re.M | re.S)
    return [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]


def test_the_page_shows_the_commands_and_files_the_test_runs():
    page = PAGE.read_text()
    lines = shell_lines(page)
    assert [line for line in lines if line in COMMANDS] == COMMANDS
    for include in re.findall(r'^--8<-- "(.+?)"$', page, re.M):
        path, _, name = include.partition(":")
        assert (ROOT / path).is_file(), include
        assert section(ROOT / path, name or None).strip()


class Project:
    def __init__(self, where: Path) -> None:
        self.where = where
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH"} and not key.startswith("SOLIDQ")
        }
        self.env["PATH"] = f"{BIN}{os.pathsep}{self.env.get('PATH', '')}"
        self.env["PYTHONUNBUFFERED"] = "1"

    def argv(self, command: str) -> list[str]:
        words = command.split()
        return (
            [sys.executable, *words[1:]]
            if words[0] == "python"
            else [str(BIN / words[0]), *words[1:]]
        )

    def run(
        self, command: str, *extra: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> str:
        """Run a command; return its output (for the shell: the last line, after Django's
        "N objects imported automatically")."""
        done = subprocess.run(
            [*self.argv(command), *extra],
            cwd=self.where,
            env={**self.env, **(env or {})},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""

    def start(self, command: str, log: Path) -> subprocess.Popen[bytes]:
        with open(log, "wb") as out:
            return subprocess.Popen(
                self.argv(command),
                cwd=self.where,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def finished(self, job_id: str) -> bool:
        with sqlite3.connect(self.where / "db.sqlite3", timeout=20) as db:
            row = db.execute(
                "SELECT finished_at FROM solidq_jobs WHERE id = ?", [uuid.UUID(job_id).hex]
            ).fetchone()
        return bool(row and row[0])


@pytest.mark.process
@pytest.mark.skipif(
    os.environ.get("SOLIDQ_TEST_DB", "sqlite") != "sqlite",
    reason="the project has its own SQLite database: runs once, in the SQLite run",
)
def test_the_quickstart_as_printed_reaches_a_finished_job_in_the_admin(tmp_path):
    project = Project(tmp_path)
    project.run(COMMANDS[0])
    project.run(COMMANDS[1])
    with open(tmp_path / "mysite" / "settings.py", "a") as settings:
        settings.write("\n" + section(EXAMPLES / "settings.py", "settings"))
    (tmp_path / "shop" / "tasks.py").write_text(section(EXAMPLES / "shop" / "tasks.py"))
    project.run(COMMANDS[2])
    # createsuperuser asks for the password; --noinput takes it from the environment instead.
    project.run(COMMANDS[3], "--noinput", env={"DJANGO_SUPERUSER_PASSWORD": "a quick start"})

    # The shell reads its input from stdin when that is not a terminal: the page's block.
    printed = project.run(COMMANDS[4], stdin=section(EXAMPLES / "enqueue.py"))
    job_id, status = printed.split()
    assert status == "READY"

    runjobs = project.start(COMMANDS[5], tmp_path / "runjobs.log")
    try:
        wait_for(lambda: project.finished(job_id), timeout=60, interval=0.2, what="the job")
    finally:
        runjobs.send_signal(signal.SIGTERM)
        assert runjobs.wait(60) == 0, (tmp_path / "runjobs.log").read_text()

    # Back in the shell (its `result` is the enqueued job's): the page's second block.
    again = (
        "from types import SimpleNamespace\n"
        "from shop.tasks import send_receipt\n"
        f"result = SimpleNamespace(id={job_id!r})\n"
    )
    printed = project.run(COMMANDS[4], stdin=again + section(EXAMPLES / "result.py", "result"))
    assert printed.strip() == "SUCCESSFUL Receipt for order 42 sent to ada@example.com"

    # The admin page the Quickstart opens, as the superuser (runserver's host).
    admin = (
        "from django.contrib.auth.models import User\n"
        "from django.test import Client\n"
        "client = Client(HTTP_HOST='127.0.0.1')\n"
        "client.force_login(User.objects.get(username='admin'))\n"
        "page = client.get('/admin/django_solidq/job/?status=finished')\n"
        "print(page.status_code, 'shop.tasks.send_receipt' in page.text, 'Finished' in page.text)\n"
    )
    assert project.run(COMMANDS[4], stdin=admin).split() == ["200", "True", "True"]
