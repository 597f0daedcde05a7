"""The admin's searches and filters read the indexes built for them (PostgreSQL's GIN indexes
from migration 0002), and work the same without them on SQLite and MariaDB."""

from __future__ import annotations

import pytest
from django.db import connections

from django_solidq.models import Job
from django_solidq.models.reporting import raised, search_arguments
from tests.app import tasks

pytestmark = pytest.mark.django_db


def plan(queryset) -> str:
    """EXPLAIN of ``queryset`` with sequential scans priced out: the plan names an index
    if, and only if, one matches the query's expression exactly."""
    connection = connections[queryset.db]
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        text = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = on")
    return text


def postgres() -> bool:
    return connections[Job.objects.db].vendor == "postgresql"


def test_argument_search_matches_text_anywhere_in_args_and_kwargs(db):
    first = tasks.echo.enqueue("Invoice-ABC-123", account={"Owner": "Zoë"})
    tasks.echo.enqueue("other")
    assert [str(j.pk) for j in search_arguments(Job.objects.all(), "abc-12")] == [first.id]
    assert [str(j.pk) for j in search_arguments(Job.objects.all(), "OWNER")] == [first.id]
    assert [str(j.pk) for j in search_arguments(Job.objects.all(), "100%")] == []
    # Written escaped in the stored JSON (SQLite also escapes non-ASCII letters).
    quoted = tasks.echo.enqueue('say "hi"', path="back\\slash", name="日本")
    for term in ('say "hi"', "back\\slash", "Zoë", "日本"):
        expected = first.id if term == "Zoë" else quoted.id
        assert [str(j.pk) for j in search_arguments(Job.objects.all(), term)] == [expected], term
    if postgres():
        assert "solidq_job_arguments_trgm" in plan(search_arguments(Job.objects.all(), "abc-12"))
    else:
        assert "solidq_job_arguments_trgm" not in index_names()


def test_exception_filter_over_all_jobs(db):
    job = Job.objects.create(
        task_path="t", errors=[{"exception_class_path": "app.errors.Declined", "traceback": ""}]
    )
    Job.objects.create(task_path="t", errors=[{"exception_class_path": "app.errors.DeclinedX"}])
    # Neither a longer path, nor another case, nor a message naming it.
    Job.objects.create(task_path="t", errors=[{"exception_class_path": "myapp.errors.Declined"}])
    Job.objects.create(task_path="t", errors=[{"exception_class_path": "APP.ERRORS.DECLINED"}])
    Job.objects.create(
        task_path="t",
        errors=[{"exception_class_path": "x.Y", "message": 'see "app.errors.Declined"'}],
    )
    assert list(raised(Job.objects.all(), "app.errors.Declined")) == [job]
    if postgres():
        assert "solidq_job_errors" in plan(raised(Job.objects.all(), "app.errors.Declined"))
    else:
        assert "solidq_job_errors" not in index_names()


def index_names() -> set[str]:
    connection = connections[Job.objects.db]
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Job._meta.db_table)
    return set(constraints)
