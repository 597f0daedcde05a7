"""Enqueue variants: on commit, dynamic queues."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DEFAULT_DB_ALIAS, transaction
from django.tasks import TaskResultStatus, default_task_backend
from django.tasks.exceptions import TaskResultDoesNotExist

from django_solidq import enqueue_on_commit
from django_solidq.models import Job
from tests.app import tasks

pytestmark = pytest.mark.django_db(transaction=True)


def test_enqueue_on_commit_waits_for_the_commit_and_keeps_the_id():
    with transaction.atomic(using=DEFAULT_DB_ALIAS):
        result = tasks.add.enqueue_on_commit(1, 2)
        assert result.status == TaskResultStatus.READY
        assert not Job.objects.exists()
    assert default_task_backend.get_result(result.id).args == [1, 2]


def test_enqueue_on_commit_enqueues_nothing_on_rollback():
    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic(using=DEFAULT_DB_ALIAS):
        result = enqueue_on_commit(tasks.add, 1, 2)
        raise Rollback
    assert not Job.objects.exists()
    with pytest.raises(TaskResultDoesNotExist):
        default_task_backend.get_result(result.id)


def test_enqueue_on_commit_outside_a_transaction_enqueues_at_once():
    result = tasks.add.enqueue_on_commit(3, 4)
    assert Job.objects.filter(id=result.id).exists()


def test_enqueue_on_commit_checks_arguments_at_the_call():
    from django_solidq import ArgumentNotSerializable

    with pytest.raises(ArgumentNotSerializable), transaction.atomic():
        tasks.add.enqueue_on_commit(object(), 1)


def test_queue_as_picks_the_queue_from_the_arguments():
    vip = tasks.account_report.enqueue("vip-42")
    plain = tasks.account_report.enqueue("acme")
    assert Job.objects.get(id=vip.id).queue_name == "vip"
    assert Job.objects.get(id=plain.id).queue_name == "default"
    assert vip.task.queue_name == "vip"


def test_using_a_queue_overrides_queue_as():
    result = tasks.account_report.using(queue_name="reports").enqueue("vip-1")
    assert Job.objects.get(id=result.id).queue_name == "reports"


def test_pk_of_turns_model_instances_into_ids():
    from django.contrib.auth.models import User

    from django_solidq import pk_of

    user = User.objects.create(username="ada")
    assert pk_of(user) == user.pk
    assert pk_of([user, 3, {"who": user}]) == [user.pk, 3, {"who": user.pk}]
    result = tasks.echo.enqueue(*pk_of([user]), owner=pk_of(user))
    assert Job.objects.get(id=result.id).args == [user.pk]


def test_passing_a_model_instance_says_to_pass_its_id():
    from django.contrib.auth.models import User

    from django_solidq import ArgumentNotSerializable

    with pytest.raises(ArgumentNotSerializable, match="pk_of"):
        tasks.echo.enqueue(User.objects.create(username="bob"))


def test_a_job_enqueued_in_a_transaction_is_invisible_elsewhere_until_commit():
    import threading

    from django.db import connections

    from django_solidq.conf import queue_database

    def seen_by_another_connection(job_id: str) -> bool:
        found: list[bool] = []

        def look() -> None:
            try:
                found.append(Job.objects.filter(id=job_id).exists())
            finally:
                connections[queue_database()].close()

        thread = threading.Thread(target=look)
        thread.start()
        thread.join(10)
        return found[0]

    with transaction.atomic(using=queue_database()):
        result = tasks.add.enqueue(1, 2)
        assert Job.objects.filter(id=result.id).exists()
        assert not seen_by_another_connection(result.id)
    assert seen_by_another_connection(result.id)


def test_the_testing_helpers_list_and_run_what_was_enqueued():
    from django_solidq.testing import enqueued_jobs, perform_enqueued_jobs

    tasks.add.enqueue(1, 2)
    later = tasks.noop.using(run_after=timedelta(hours=1)).enqueue()
    assert [j.task_path for j in enqueued_jobs()] == ["tests.app.tasks.add", "tests.app.tasks.noop"]
    assert [str(j.pk) for j in enqueued_jobs("tests.app.tasks.noop")] == [later.id]
    assert [r.return_value for r in perform_enqueued_jobs()] == [3]  # due jobs only
    assert [r.id for r in perform_enqueued_jobs(include_scheduled=True)] == [later.id]
    assert enqueued_jobs() == []


def test_build_matches_the_model_defaults():
    """Job.objects.build() writes every column's default out (positional construction, for
    speed): it must build exactly the job Django's keyword path would."""
    task = tasks.add.using(priority=7, queue_name="mail")
    built = Job.objects.build(task, [1, 2], {"x": 3})
    reference = Job(
        id=built.id,
        backend=task.backend,
        task_path=task.module_path,
        queue_name="mail",
        priority=7,
        args=[1, 2],
        kwargs={"x": 3},
        scheduled_at=None,
        enqueued_at=built.enqueued_at,
    )
    for field in Job._meta.concrete_fields:
        assert getattr(built, field.attname) == getattr(reference, field.attname), field.name
    other = Job.objects.build(task, [], {})
    assert other.errors is not built.errors and other.worker_ids is not built.worker_ids
    assert other.exception_executions is not built.exception_executions
    assert other.id != built.id and built._state.adding


TRICKY = ['a "quoted" word', 'back\\slash \\" both', "{braces},commas", "NULL", "", "Zoë ✓", None]


def test_enqueue_all_stores_tricky_arguments_exactly():
    from django_solidq import enqueue_all

    results = enqueue_all([tasks.echo.bind(value, key=value) for value in TRICKY])
    for value, result in zip(TRICKY, results, strict=True):
        job = Job.objects.get(pk=result.id)
        assert (job.args, job.kwargs) == ([value], {"key": value})


def test_array_literal_reads_back_as_the_values():
    from django.db import connection

    from django_solidq.ops.postgres import array_literal

    literal = array_literal(TRICKY)
    assert literal.startswith('{"a \\"quoted\\" word",') and literal.endswith(",NULL}")
    assert array_literal([1, None, -2], quote=False) == "{1,NULL,-2}"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::text[]", [literal])
            assert cursor.fetchone()[0] == TRICKY


def test_enqueue_all_takes_an_integral_float_priority_as_django_does():
    from django_solidq import enqueue_all

    (result,) = enqueue_all([tasks.add.using(priority=5.0).bind(1, 2)])
    assert Job.objects.get(pk=result.id).priority == 5


def test_a_failed_execution_inserted_without_the_new_columns_gets_their_default():
    """A worker still on the code before migration 0002 (a rolling deploy) inserts only
    (job_id, created_at): the columns' database defaults fill the rest."""
    from django.db import connections
    from django.utils import timezone

    from django_solidq.models import FailedExecution

    job = Job.objects.create(task_path="t")
    connection = connections[FailedExecution.objects.db]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO solidq_failed_executions (job_id, created_at) VALUES (%s, %s)",
            [job.pk.hex, timezone.now()],  # 32 hex digits: every backend reads them
        )
    row = FailedExecution.objects.get(job=job)
    assert (row.task_path, row.queue_name, row.exception_class) == ("", "", "")


def test_the_postgres_index_operation_round_trips_through_the_migration_writer():
    from django.db.migrations.writer import OperationWriter

    from django_solidq.operations import PostgresIndex

    operation = PostgresIndex("i", "CREATE INDEX i ON t (c)", extension="pg_trgm")
    name, args, kwargs = operation.deconstruct()
    again = PostgresIndex(*args, **kwargs)
    assert name == "PostgresIndex"
    assert (again.name, again.sql, again.extension) == ("i", "CREATE INDEX i ON t (c)", "pg_trgm")
    text, imports = OperationWriter(operation).serialize()
    assert "import django_solidq.operations" in imports and "pg_trgm" in text


def test_the_postgres_index_operation_warns_and_goes_on_when_it_cannot_build(recwarn):
    """An index (or extension) PostgreSQL refuses is skipped with a warning naming the SQL; the
    migration's transaction stays usable. Elsewhere the operation does nothing."""
    from django.db import connections

    from django_solidq.operations import PostgresIndex

    connection = connections[Job.objects.db]
    bad = PostgresIndex("solidq_test_bad", "CREATE INDEX solidq_test_bad ON solidq_jobs (nope)")
    with connection.schema_editor(atomic=True) as editor:
        bad.database_forwards("django_solidq", editor, None, None)
        Job.objects.create(task_path="still.usable")  # the transaction was not aborted
    assert Job.objects.filter(task_path="still.usable").exists()
    messages = [str(w.message) for w in recwarn.list if "solidq_test_bad" in str(w.message)]
    if connection.vendor == "postgresql":
        assert len(messages) == 1 and "CREATE INDEX solidq_test_bad" in messages[0]
    else:
        assert messages == []
