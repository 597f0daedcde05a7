"""Reporting queries (``models.reporting``): the grouped answers for all queues equal the
straightforward count of each queue; Mission Control builds no markup it marks safe; the
pause permission moved to Pause with its grants (migration 0003)."""

from __future__ import annotations

import ast
import importlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import connections
from django.db.models import Min
from django.utils import timezone

from django_solidq import health
from django_solidq.models import (
    BlockedExecution,
    ClaimedExecution,
    FailedExecution,
    Job,
    Pause,
    Process,
    ReadyExecution,
    ScheduledExecution,
    reporting,
)
from django_solidq.testing import perform_enqueued_jobs
from tests.admin.test_admin_support import blocked_job
from tests.app import tasks

PACKAGE = Path(__file__).resolve().parents[2] / "django_solidq"


def populate() -> None:
    """Jobs of every execution table over several queues, one queue past the cap."""
    for queue, n in (("a", 5), ("b", 2), ("c", 1)):
        for i in range(n):
            tasks.add.using(queue_name=queue).enqueue(i, i)
    old = ReadyExecution.objects.filter(queue_name="b").order_by("id").first()
    ReadyExecution.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=1))
    for queue in ("b", "d", "d"):
        tasks.add.using(queue_name=queue, run_after=timedelta(hours=1)).enqueue(1, 1)
    blocked = blocked_job()
    Job.objects.filter(pk=blocked.pk).update(queue_name="e")
    BlockedExecution.objects.filter(job=blocked).update(queue_name="e")
    for queue in ("a", "f", "f", "f"):
        tasks.fail.using(queue_name=queue).enqueue("x")
    perform_enqueued_jobs(["f"])
    perform_enqueued_jobs(["a"])  # a's pending jobs run too: add four back
    for i in range(4):
        tasks.add.using(queue_name="a").enqueue(i, i)
    worker = Process.objects.register("worker", "worker-1", queues=["*"], threads=3)
    ReadyExecution.objects.claim(["c"], 1, worker.id)
    Pause.objects.pause("g")
    Pause.objects.pause("a")


def per_queue(name: str, cap: int) -> dict[str, object]:
    """One queue's numbers, counted the plain way: a query per number."""
    oldest = ReadyExecution.objects.filter(queue_name=name).aggregate(m=Min("created_at"))["m"]
    return {
        "pending": min(ReadyExecution.objects.filter(queue_name=name).count(), cap + 1),
        "scheduled": min(ScheduledExecution.objects.filter(queue_name=name).count(), cap + 1),
        "running": ClaimedExecution.objects.filter(job__queue_name=name).count(),
        "failed": min(FailedExecution.objects.filter(queue_name=name).count(), cap + 1),
        "oldest": oldest,
        "paused": Pause.objects.filter(queue_name=name).exists(),
    }


@pytest.mark.django_db
class TestQueueStats:
    def test_grouped_stats_equal_the_counts_of_each_queue(self):
        populate()
        cap = 3
        now = timezone.now()
        stats = reporting.queue_stats(cap=cap, now=now)
        assert [row.name for row in stats] == ["a", "b", "c", "d", "e", "f", "g"]
        for row in stats:
            expected = per_queue(row.name, cap)
            got = {key: getattr(row, key) for key in expected}
            assert got == expected, row.name
            assert row.latency == (now - row.oldest if row.oldest else None)
        by_name = {row.name: row for row in stats}
        assert by_name["a"].pending == cap + 1  # 4 pending, more than the cap: "more than 3"
        assert by_name["f"].failed == 3 and by_name["c"].running == 1
        assert by_name["b"].latency >= timedelta(hours=1)

    def test_the_number_of_queries_does_not_grow_with_the_queues(
        self, django_assert_max_num_queries
    ):
        populate()
        for i in range(20):
            tasks.add.using(queue_name=f"more-{i}").enqueue(1, 1)
        with django_assert_max_num_queries(6):
            assert len(reporting.queue_stats()) == 27

    def test_oldest_ready_and_health_latency_equal_each_queues_probe(self):
        populate()
        now = timezone.now()
        for name, oldest in reporting.oldest_ready().items():
            assert oldest == per_queue(name, 10)["oldest"], name
        latencies = health.queue_latencies(now)
        assert set(latencies) == {"b"}  # a is paused, c runs its one job, the others hold none
        assert latencies["b"] == (now - per_queue("b", 10)["oldest"]).total_seconds()

    def test_a_limit_keeps_the_first_queues_by_name(self):
        populate()
        assert [row.name for row in reporting.queue_stats(limit=2)] == ["a", "b"]


# --- no markup marked safe -------------------------------------------------------------------


def test_no_python_marks_a_string_safe():
    """Markup comes from format_html (escaping its arguments) or from templates: no
    ``mark_safe``, and no ``format_html`` of an f-string (which would escape nothing)."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            where = f"{path.relative_to(PACKAGE)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Name | ast.Attribute | ast.alias):
                name = getattr(node, "id", None) or getattr(node, "attr", None) or node.name
                if name == "mark_safe":
                    offenders.append(where)
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "format_html":
                if node.args and isinstance(node.args[0], ast.JoinedStr):
                    offenders.append(f"{where} (an f-string)")
    assert offenders == []


def test_no_template_turns_escaping_off():
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in (PACKAGE / "templates").rglob("*")
        if path.is_file() and re.search(r"\|\s*safe\b|autoescape\s+off", path.read_text())
    ]
    assert offenders == []


def test_admin_imports_only_at_module_level():
    for path in (PACKAGE / "admin").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
                assert not inner, f"{path.name}: an import inside {node.name}()"


# --- the pause permission on Pause ----------------------------------------------------------


@pytest.mark.django_db
class TestPausePermissionMoved:
    migration = importlib.import_module("django_solidq.migrations.0003_pause_permission_on_pause")

    def move(self) -> None:
        class Editor:
            connection = connections["default"]

        self.migration.move_permission(apps, Editor())

    def old_grants(self) -> tuple[User, Group]:
        """The permission as it was before 0003: on Job, held by a user and a group."""
        Permission.objects.filter(codename="pause_queue").delete()
        old = Permission.objects.create(
            content_type=ContentType.objects.get_for_model(Job),
            codename="pause_queue",
            name="Can pause and resume queues",
        )
        user = User.objects.create_user("pauser", is_staff=True)
        user.user_permissions.add(old)
        group = Group.objects.create(name="operators")
        group.permissions.add(old)
        return user, group

    def assert_moved(self, user: User, group: Group) -> None:
        permission = Permission.objects.get(codename="pause_queue")
        assert permission.content_type.model == "pause"
        assert list(group.permissions.all()) == [permission]
        assert list(User.objects.get(pk=user.pk).user_permissions.all()) == [permission]
        member = User.objects.create_user("member", is_staff=True)
        member.groups.add(group)
        assert User.objects.get(pk=member.pk).has_perm("django_solidq.pause_queue")

    def test_the_permission_moves_with_its_grants(self):
        user, group = self.old_grants()
        self.move()
        self.assert_moved(user, group)

    def test_grants_are_copied_when_both_exist(self):
        user, group = self.old_grants()
        Permission.objects.create(
            content_type=ContentType.objects.get_for_model(Pause),
            codename="pause_queue",
            name="Can pause and resume queues",
        )
        self.move()
        self.assert_moved(user, group)

    def test_a_new_site_has_nothing_to_move(self):
        Permission.objects.filter(codename="pause_queue").delete()
        self.move()
        assert not Permission.objects.filter(codename="pause_queue").exists()
