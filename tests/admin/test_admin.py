"""Mission Control in the admin: pages, actions, permissions, caps, escaping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from django_solidq.admin import actions as admin_actions
from django_solidq.admin import helpers, job_actions
from django_solidq.admin import queues as queues_admin
from django_solidq.admin.jobs import JobAdmin
from django_solidq.models import (
    BlockedExecution,
    ClaimedExecution,
    FailedExecution,
    Job,
    Pause,
    Process,
    ReadyExecution,
    RecurringExecution,
    RecurringTask,
    ScheduledExecution,
    reporting,
)
from django_solidq.testing import perform_enqueued_jobs
from tests.admin.test_admin_support import (
    Jobs,
    blocked_job,
    client_with,
    failed_job,
    job,
    make_jobs,
)
from tests.app import tasks

pytestmark = pytest.mark.django_db

JOBS = reverse("admin:django_solidq_job_changelist")
DASHBOARD = reverse("admin:django_solidq_job_dashboard")
QUEUES = reverse("admin:django_solidq_job_queues")
PAUSE = reverse("admin:django_solidq_job_queue_pause")
RESUME = reverse("admin:django_solidq_job_queue_resume")
CLEAR = reverse("admin:django_solidq_job_queue_clear")
WORKERS = reverse("admin:django_solidq_process_changelist")
RECURRING = reverse("admin:django_solidq_recurringtask_changelist")
STATE_NAMES = ("ready", "scheduled", "claimed", "blocked", "failed", "finished", "discarded")


@pytest.fixture
def jobs() -> Jobs:
    return make_jobs()


def change_url(job_: Job) -> str:
    return reverse("admin:django_solidq_job_change", args=[job_.pk])


def listed(response) -> list[str]:
    """The job ids a changelist page shows."""
    return [str(row.pk) for row in response.context["cl"].result_list]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def act(client: Client, action: str, ids: list, url: str = JOBS, confirm: bool = True, **extra):
    data = {"action": action, "_selected_action": [str(i) for i in ids], "index": "0", **extra}
    first = client.post(url, data)
    if not confirm:
        return first
    assert first.status_code == 200, first
    assert b"are you sure" in first.content.lower()
    data.pop("index")
    return client.post(url, {**data, "post": "yes"}, follow=True)


# --- pages ----------------------------------------------------------------------------------


class TestJobLists:
    def test_each_status_lists_exactly_its_jobs(self, admin_client, jobs):
        for state in (
            "ready",
            "scheduled",
            "claimed",
            "blocked",
            "failed",
            "finished",
            "discarded",
        ):
            response = admin_client.get(JOBS, {"status": state})
            assert response.status_code == 200
            assert listed(response) == [str(getattr(jobs, state).pk)], state

    def test_all_jobs_newest_first(self, admin_client, jobs):
        response = admin_client.get(JOBS)
        assert len(listed(response)) == 7
        newest_first = Job.objects.order_by("-enqueued_at").values_list("pk", flat=True)
        assert listed(response) == [str(pk) for pk in newest_first]

    def test_rows_show_task_queue_arguments_attempts_and_last_error(self, admin_client, jobs):
        content = admin_client.get(JOBS, {"status": "failed"}).content.decode()
        assert "tests.app.tasks.fail" in content  # the task's path, as a title
        assert "Boom" in content and "it &lt;b&gt;broke&lt;/b&gt;" in content
        assert "<b>broke</b>" not in content
        assert "failed" in content and "ago" in content

    def test_blocked_jobs_show_their_concurrency_key_and_expiry(self, admin_client, jobs):
        content = admin_client.get(JOBS, {"status": "blocked"}).content.decode()
        assert "<code>account-1</code>" in content
        assert "block expires in 4" in content  # minutes: the fixture's block lasts 5
        detail = admin_client.get(change_url(jobs.blocked)).content.decode()
        assert "block on &#x27;account-1&#x27; expires" in detail

    def test_running_jobs_name_their_worker(self, admin_client, jobs):
        content = admin_client.get(JOBS, {"status": "claimed"}).content.decode()
        assert "worker-1" in content

    def test_filters_by_task_queue_exception_worker_and_date(self, admin_client, jobs):
        other = tasks.on_other_queue.enqueue()
        by_task = admin_client.get(JOBS, {"task": "tests.app.tasks.fail"})
        assert listed(by_task) == [str(jobs.failed.pk)]
        by_queue = admin_client.get(JOBS, {"queue": "other"})
        assert listed(by_queue) == [other.id]
        by_exception = admin_client.get(JOBS, {"exception": "tests.app.tasks.Boom"})
        assert listed(by_exception) == [str(jobs.failed.pk)]
        assert listed(admin_client.get(JOBS, {"exception": "tests.app.tasks.Bo"})) == []
        by_worker = admin_client.get(JOBS, {"process": str(jobs.worker.pk)})
        assert listed(by_worker) == [str(jobs.claimed.pk)]
        # As the admin's own date filter links them: aware start-of-day datetimes.
        midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        today, tomorrow = str(midnight), str(midnight + timedelta(days=1))
        by_date = admin_client.get(JOBS, {"enqueued_at__gte": today, "enqueued_at__lt": tomorrow})
        assert len(listed(by_date)) == 8

    def test_exception_filter_on_the_failed_list_uses_the_failing_error(self, admin_client, jobs):
        # Failed first with Boom, retried, failed for good with another class: the Failed
        # list's filter goes by the error that ended the job; other lists by any attempt.
        Job.objects.filter(pk=jobs.failed.pk).update(
            errors=[
                {"exception_class_path": "tests.app.tasks.Boom", "message": "1"},
                {"exception_class_path": "app.errors.Other", "message": "2"},
            ]
        )
        FailedExecution.objects.filter(job=jobs.failed).update(exception_class="app.errors.Other")
        failed_other = admin_client.get(JOBS, {"status": "failed", "exception": "app.errors.Other"})
        assert listed(failed_other) == [str(jobs.failed.pk)]
        assert failed_other.context["cl"].result_count == 1
        failed_boom = admin_client.get(
            JOBS, {"status": "failed", "exception": "tests.app.tasks.Boom"}
        )
        assert listed(failed_boom) == []
        assert listed(admin_client.get(JOBS, {"exception": "tests.app.tasks.Boom"})) == [
            str(jobs.failed.pk)
        ]

    @pytest.mark.parametrize(
        "query",
        [
            {"status": "ready"},
            {"status": "ready", "queue": "default"},
            {"status": "ready", "queue": "nowhere"},
            {"status": "scheduled"},
            {"status": "blocked"},
            {"status": "failed"},
            {"status": "failed", "exception": "tests.app.tasks.Boom"},
            {"status": "failed", "exception": "tests.app.tasks.Boom", "queue": "default"},
            {"status": "failed", "task": "tests.app.tasks.fail"},
            # An empty value is no filter, for the list and for its count alike.
            {"status": "failed", "queue": ""},
            {"status": "failed", "exception": "", "task": ""},
            {"status": "claimed"},
            {},
        ],
    )
    def test_counts_through_the_execution_table_match_the_list(self, admin_client, jobs, query):
        for i in range(3):
            tasks.add.enqueue(i, i)
            failed_job()
        response = admin_client.get(JOBS, query)
        cl = response.context["cl"]
        assert cl.result_count == len(listed(response)) == len(cl.queryset)

    def test_filter_choices_are_offered(self, admin_client, jobs):
        content = admin_client.get(JOBS).content.decode()
        assert "?task=tests.app.tasks.fail" in content
        assert "?exception=tests.app.tasks.Boom" in content
        assert "?process=" in content

    def test_search_by_job_id_and_argument_text(self, admin_client, jobs):
        assert listed(admin_client.get(JOBS, {"q": str(jobs.failed.pk)})) == [str(jobs.failed.pk)]
        assert listed(admin_client.get(JOBS, {"q": "NEEDLE-in"})) == [str(jobs.ready.pk)]
        assert listed(admin_client.get(JOBS, {"q": "nothing-like-this"})) == []

    def test_ready_jobs_in_claim_order(self, admin_client, db):
        low = tasks.add.using(priority=-5).enqueue(1, 1)
        high = tasks.add.using(priority=10).enqueue(2, 2)
        first = tasks.add.enqueue(3, 3)
        second = tasks.add.enqueue(4, 4)
        response = admin_client.get(JOBS, {"status": "ready"})
        assert listed(response) == [high.id, first.id, second.id, low.id]

    def test_counts_are_capped_and_say_more_than(self, admin_client, db, monkeypatch):
        monkeypatch.setattr(helpers, "COUNT_CAP", 3)
        monkeypatch.setattr(JobAdmin, "count_cap", 3)
        monkeypatch.setattr(JobAdmin, "list_per_page", 2)
        for i in range(5):
            tasks.add.enqueue(i, i)
        content = admin_client.get(JOBS).content.decode()
        assert "more than 3 jobs" in content
        assert "Select all matching jobs (more than 3)" in content

    def test_the_list_does_not_query_per_row(self, admin_client, db, django_assert_max_num_queries):
        for i in range(30):
            tasks.echo.enqueue(i)
        for _ in range(5):
            failed_job()
        with django_assert_max_num_queries(25):
            assert admin_client.get(JOBS).status_code == 200


class TestJobPage:
    def test_shows_arguments_errors_tracebacks_and_timeline_escaped(self, admin_client, jobs):
        content = admin_client.get(change_url(jobs.failed)).content.decode()
        assert str(jobs.failed.pk) in content
        assert "it &lt;b&gt;broke&lt;/b&gt;" in content and "<b>broke</b>" not in content
        assert "Full traceback" in content
        assert "raise Boom(message)" in content  # the traceback's source line
        assert "tests.app.tasks.Boom" in content
        assert "Attempt 1" in content and "test-worker" in content
        assert "enqueued" in content and "entered failed" in content
        assert 'name="_save"' not in content  # read-only: nothing to save

    def test_return_value_of_a_finished_job(self, admin_client, jobs):
        content = admin_client.get(change_url(jobs.finished)).content.decode()
        assert "finished successfully" in content
        assert '<pre class="solidq-pre">3</pre>' in content

    def test_a_running_job_links_its_worker(self, admin_client, jobs):
        content = admin_client.get(change_url(jobs.claimed)).content.decode()
        assert "running now on" in content
        assert reverse("admin:django_solidq_process_change", args=[jobs.worker.pk]) in content

    def test_offers_the_actions_on_the_page(self, admin_client, jobs):
        content = admin_client.get(change_url(jobs.failed)).content.decode()
        assert 'name="CHANGE_FORM-action"' in content
        assert 'value="retry_jobs"' in content

    def test_retry_from_the_job_page(self, admin_client, jobs):
        url = change_url(jobs.failed)
        data = {"CHANGE_FORM-action": "retry_jobs", "_selected_action": str(jobs.failed.pk)}
        confirm = admin_client.post(url, data)
        assert confirm.status_code == 200 and b"Yes, retry" in confirm.content
        assert FailedExecution.objects.filter(job=jobs.failed).exists()
        done = admin_client.post(url, {**data, "post": "yes"}, follow=True)
        assert done.redirect_chain[-1][0] == url
        assert "Retried 1 job." in messages_of(done)
        assert ReadyExecution.objects.filter(job=jobs.failed).exists()


class TestOtherPages:
    def test_dashboard_counts_chart_and_tables(self, admin_client, jobs):
        response = admin_client.get(DASHBOARD, {"hours": "6"})
        content = response.content.decode()
        assert response.status_code == 200
        assert {c["state"]: c["count"] for c in response.context["counts"]} == {
            "ready": "1",
            "scheduled": "1",
            "claimed": "1",
            "blocked": "1",
            "failed": "1",
            "finished": "1",
            "discarded": "1",
        }
        assert '<svg class="solidq-chart"' in content and "<rect" in content
        assert "1 finished" in content
        assert "tests.app.tasks.add" in content  # slowest tasks
        assert response.context["failing"][0]["task_path"] == "tests.app.tasks.fail"

    def test_dashboard_draws_latency_per_queue(self, admin_client, db):
        now = timezone.now()

        def finished(queue: str, waited: float, scheduled: bool = False) -> None:
            enqueued = now - timedelta(minutes=30)
            due = enqueued + timedelta(minutes=10) if scheduled else enqueued
            started = due + timedelta(seconds=waited)
            Job.objects.create(
                task_path="t",
                queue_name=queue,
                enqueued_at=enqueued,
                scheduled_at=due if scheduled else None,
                started_at=started,
                last_attempted_at=started,
                finished_at=started + timedelta(seconds=1),
            )

        for waited in (1, 2, 3, 4, 100):
            finished("mail", waited)
        finished("reports", 5, scheduled=True)  # waited from its scheduled time, not enqueue
        pending = tasks.add.using(queue_name="billing").enqueue(1, 1)
        ReadyExecution.objects.filter(job_id=pending.id).update(
            created_at=now - timedelta(minutes=7)
        )
        waits = reporting.waits_by_queue(now - timedelta(hours=1), booted=None).queued
        assert sorted(waits["mail"]) == [1, 2, 3, 4, 100] and waits["reports"] == [5]
        response = admin_client.get(DASHBOARD, {"hours": "1"})
        rows = {row["name"]: row for row in response.context["latencies"]}
        assert (rows["mail"]["p50"], rows["mail"]["p95"], rows["mail"]["jobs"]) == (3, 100, 5)
        assert rows["billing"]["now"] >= 7 * 60 and rows["billing"]["p50"] is None
        content = response.content.decode()
        assert 'class="solidq-chart solidq-latency"' in content
        assert ">mail</text>" in content and ">billing</text>" in content
        assert ">100.0 s</text>" in content  # mail's p95, as a duration

    def test_dashboard_ignores_a_bad_window(self, admin_client, db):
        assert admin_client.get(DASHBOARD, {"hours": "x"}).context["window"] == "1h"
        assert admin_client.get(DASHBOARD, {"window": "1000h"}).context["window"] == "1h"

    def test_queues_page(self, admin_client, jobs):
        tasks.on_other_queue.enqueue()
        Pause.objects.pause("other")
        response = admin_client.get(QUEUES)
        rows = {q["name"]: q for q in response.context["queues"]}
        assert rows["default"]["pending"] == 1
        assert rows["default"]["running"] == 1
        assert rows["default"]["failed"] == 1
        assert rows["default"]["latency"] is not None
        assert rows["other"]["paused"] and not rows["default"]["paused"]
        assert b"Resume" in response.content and b"Pause" in response.content

    def test_workers_page_flags_stale_processes_and_counts_running_jobs(self, admin_client, jobs):
        stale = Process.objects.register("worker", "worker-2", queues=["mail"], threads=1)
        Process.objects.filter(id=stale.id).update(
            last_heartbeat_at=timezone.now() - timedelta(minutes=5)
        )
        response = admin_client.get(WORKERS)
        content = response.content.decode()
        assert "worker-1" in content and "worker-2" in content
        assert content.count("solidq-badge solidq-failed") == 1 and ">alive<" in content
        assert f"?status=claimed&amp;process={jobs.worker.pk}" in content
        stale_only = admin_client.get(WORKERS, {"heartbeat": "stale"})
        assert [p.name for p in stale_only.context["cl"].result_list] == ["worker-2"]

    def test_worker_page_lists_its_running_jobs(self, admin_client, jobs):
        url = reverse("admin:django_solidq_process_change", args=[jobs.worker.pk])
        content = admin_client.get(url).content.decode()
        assert "tests.app.tasks.echo" in content and change_url(jobs.claimed) in content

    def test_recurring_tasks_page(self, admin_client, jobs):
        RecurringTask.objects.create(
            key="nightly", schedule="0 3 * * *", task_path="tests.app.tasks.add", args=[1, 2]
        )
        RecurringTask.objects.create(key="broken", schedule="every blah", command="echo hi")
        RecurringExecution.objects.create(
            task_key="nightly", run_at=timezone.now(), job=jobs.finished
        )
        RecurringTask.objects.create(key="hourly", schedule="every hour", command="echo hi")
        RecurringExecution.objects.create(
            task_key="hourly", run_at=timezone.now() - timedelta(hours=1), job=jobs.failed
        )
        RecurringExecution.objects.create(
            task_key="hourly", run_at=timezone.now() - timedelta(hours=2), job=jobs.finished
        )
        content = admin_client.get(RECURRING).content.decode()
        assert "nightly" in content and "0 3 * * *" in content and "tests.app.tasks.add" in content
        assert "invalid schedule" in content and "$ echo hi" in content
        # A phrase shows the cron line it means; the last run its job's state, linked.
        assert "every hour<br><small>cron <code>0 * * * *</code>" in content
        rows = {t.key: t for t in admin_client.get(RECURRING).context["cl"].result_list}
        assert rows["hourly"].last_job.pk == jobs.failed.pk  # the latest run's job
        assert rows["nightly"].last_job.pk == jobs.finished.pk
        assert rows["broken"].last_job is None
        failed_link = (
            f'<a href="{change_url(jobs.failed)}"><span class="solidq-badge solidq-failed">'
        )
        assert failed_link in content
        task = RecurringTask.objects.get(key="nightly")
        detail = admin_client.get(
            reverse("admin:django_solidq_recurringtask_change", args=[task.pk])
        )
        assert change_url(jobs.finished) in detail.content.decode()

    def test_run_a_recurring_task_now(self, db):
        task = RecurringTask.objects.create(
            key="sum", schedule="0 3 * * *", task_path="tests.app.tasks.add", args=[1, 2]
        )
        bad = RecurringTask.objects.create(
            key="gone", schedule="0 3 * * *", task_path="tests.app.tasks.nope"
        )
        viewer = client_with("view_recurringtask", username="viewer")
        data = {"action": "run_now", "_selected_action": [str(task.pk)], "index": "0"}
        viewer.post(RECURRING, data)
        assert not Job.objects.exists()
        operator = client_with("view_recurringtask", "run_job_now")
        response = operator.post(
            RECURRING, {**data, "_selected_action": [str(task.pk), str(bad.pk)]}, follow=True
        )
        text = " ".join(messages_of(response))
        assert "sum: enqueued" in text and "gone: not enqueued" in text
        assert Job.objects.get().args == [1, 2]
        assert not RecurringExecution.objects.exists()  # the schedule's ticks are untouched

    def test_app_index_links_mission_control(self, admin_client, db):
        content = admin_client.get(reverse("admin:app_list", args=["django_solidq"])).content
        assert b"Mission Control" in content and DASHBOARD.encode() in content


# --- actions --------------------------------------------------------------------------------


class TestRetry:
    def test_retries_selected_failed_jobs_after_confirming(self, admin_client, jobs):
        response = act(admin_client, "retry_jobs", [jobs.failed.pk])
        assert "Retried 1 job." in messages_of(response)
        retried = job(str(jobs.failed.pk))
        assert retried.execution("readyexecution") is not None
        assert len(retried.errors) == 1  # kept as history

    def test_says_other_jobs_are_left_alone(self, admin_client, jobs):
        response = act(admin_client, "retry_jobs", [jobs.failed.pk, jobs.ready.pk])
        assert "Retried 1 job." in messages_of(response)
        assert any("Only failed jobs" in m for m in messages_of(response))

    def test_retries_all_jobs_matching_a_filter(self, admin_client, db):
        other = failed_job("another task")
        Job.objects.filter(pk=other.pk).update(task_path="tests.app.tasks.add")
        boom = [failed_job(f"m{i}") for i in range(3)]
        response = act(
            admin_client,
            "retry_jobs",
            [boom[0].pk],
            url=f"{JOBS}?status=failed&task=tests.app.tasks.fail",
            select_across="1",
        )
        assert "Retried 3 jobs." in messages_of(response)
        assert list(FailedExecution.objects.values_list("job_id", flat=True)) == [other.pk]

    def test_a_click_is_capped_and_says_so(self, admin_client, db, monkeypatch):
        monkeypatch.setattr(admin_actions, "BULK_LIMIT", 2)
        failures = [failed_job() for _ in range(5)]
        response = act(
            admin_client,
            "retry_jobs",
            [failures[0].pk],
            url=f"{JOBS}?status=failed",
            select_across="1",
        )
        assert "Retried 2 jobs." in messages_of(response)
        assert any("Run the action again" in m for m in messages_of(response))
        assert FailedExecution.objects.count() == 3

    def test_batches_are_separate_transactions(self, admin_client, db, monkeypatch):
        calls = []
        original = job_actions.RETRY.work
        monkeypatch.setattr(
            job_actions,
            "RETRY",
            admin_actions.BulkAction(
                **{
                    **job_actions.RETRY.__dict__,
                    "batch_size": 2,
                    "work": lambda ids: calls.append(len(ids)) or original(ids),
                }
            ),
        )
        failures = [failed_job() for _ in range(5)]
        act(admin_client, "retry_jobs", [f.pk for f in failures])
        assert calls == [2, 2, 1]


class TestDiscard:
    def test_discards_pending_scheduled_blocked_and_failed_jobs(self, admin_client, jobs):
        targets = [jobs.ready, jobs.scheduled, jobs.blocked, jobs.failed]
        response = act(admin_client, "discard_jobs", [j.pk for j in targets])
        assert "Discarded 4 jobs." in messages_of(response)
        for target in targets:
            ended = job(str(target.pk))
            assert ended.discarded_at is not None and ended.finished_at is not None
        for model in (ReadyExecution, ScheduledExecution, BlockedExecution, FailedExecution):
            assert not model.objects.exists()

    def test_never_a_running_job_and_says_why(self, admin_client, jobs):
        confirm = admin_client.post(
            JOBS,
            {"action": "discard_jobs", "_selected_action": [str(jobs.claimed.pk)], "index": "0"},
        )
        assert b"None of the selected jobs" in confirm.content
        assert b"a running job cannot be discarded" in confirm.content
        response = act(admin_client, "discard_jobs", [jobs.claimed.pk, jobs.finished.pk])
        text = " ".join(messages_of(response))
        assert "Discarded 0 jobs." in text
        assert "1 running job is left alone" in text and "1 job had already ended" in text
        assert ClaimedExecution.objects.filter(job=jobs.claimed).exists()
        assert job(str(jobs.claimed.pk)).discarded_at is None


class TestRunNow:
    def test_makes_scheduled_jobs_ready(self, admin_client, jobs):
        response = act(admin_client, "run_jobs_now", [jobs.scheduled.pk, jobs.ready.pk])
        assert "Made 1 job pending." in messages_of(response)
        assert any("Only scheduled and blocked jobs" in m for m in messages_of(response))
        assert not ScheduledExecution.objects.exists()
        assert ReadyExecution.objects.filter(job=jobs.scheduled).exists()
        # The job's own time says it runs now, not at the time it was scheduled for.
        jobs.scheduled.refresh_from_db()
        assert jobs.scheduled.scheduled_at <= timezone.now()

    def test_a_limited_scheduled_job_goes_through_its_limit(self, admin_client, db, tmp_path):
        log = str(tmp_path / "log")
        first = tasks.in_sequence.enqueue(log, "A")  # holds the key's only permit
        later = tasks.in_sequence.using(run_after=timedelta(hours=1)).enqueue(log, "C")
        act(admin_client, "run_jobs_now", [later.id])
        # Blocked behind the permit holder, as the dispatcher would have placed it.
        assert BlockedExecution.objects.filter(job_id=later.id).exists()
        assert list(ReadyExecution.objects.values_list("job_id", flat=True)) == [job(first.id).pk]

    def test_runs_a_blocked_job_outside_its_limit(self, admin_client, jobs):
        key = jobs.blocked.concurrency_key
        assert key
        response = act(admin_client, "run_jobs_now", [jobs.blocked.pk])
        assert "Made 1 job pending." in messages_of(response)
        assert not BlockedExecution.objects.exists()
        assert ReadyExecution.objects.filter(job=jobs.blocked).exists()
        jobs.blocked.refresh_from_db()
        # It takes no permit and so gives none back when it ends.
        assert jobs.blocked.concurrency_key is None

    def test_from_the_unfiltered_list_takes_scheduled_and_blocked_jobs(self, admin_client, jobs):
        select_all = {"select_across": "1"}
        confirm = act(admin_client, "run_jobs_now", [jobs.ready.pk], confirm=False, **select_all)
        assert confirm.context["count"] == 2
        assert {j.pk for j in confirm.context["sample"]} == {jobs.scheduled.pk, jobs.blocked.pk}
        response = act(admin_client, "run_jobs_now", [jobs.ready.pk], **select_all)
        assert "Made 2 jobs pending." in messages_of(response)


class TestHistory:
    def test_each_job_acted_on_gets_a_log_entry_by_its_user(self, admin_client, jobs):
        from django.contrib.admin.models import CHANGE, LogEntry

        act(admin_client, "discard_jobs", [jobs.ready.pk, jobs.failed.pk])
        entries = LogEntry.objects.filter(action_flag=CHANGE).order_by("object_id")
        assert sorted(e.object_id for e in entries) == sorted(
            [str(jobs.ready.pk), str(jobs.failed.pk)]
        )
        assert all(e.user.username == "admin" for e in entries)
        assert all(
            "Discard (discarded 2 of 2 jobs in one click)" in e.change_message for e in entries
        )
        history = admin_client.get(
            reverse("admin:django_solidq_job_history", args=[jobs.failed.pk])
        )
        assert "Discard (discarded 2 of 2" in history.content.decode()

    def test_jobs_skipped_meanwhile_are_not_logged(self, admin_client, jobs):
        from django.contrib.admin.models import LogEntry
        from django.test import RequestFactory

        request = RequestFactory().post("/")
        request.user = User.objects.get(username="admin")
        # Selected for Discard; a worker claimed the failed one's retry meanwhile: only the
        # pending job was discarded, and only it gets the entry.
        ReadyExecution.objects.filter(job=jobs.ready).discard()
        admin_actions.log_action(request, job_actions.DISCARD, [jobs.ready.pk, jobs.failed.pk], 1)
        assert list(LogEntry.objects.values_list("object_id", flat=True)) == [str(jobs.ready.pk)]

    def test_nothing_done_nothing_logged(self, admin_client, jobs):
        from django.contrib.admin.models import LogEntry

        act(admin_client, "retry_jobs", [jobs.ready.pk])
        assert not LogEntry.objects.exists()


class TestQueues:
    def test_pause_and_resume(self, admin_client, db):
        response = admin_client.post(PAUSE, {"queue": "mail"}, follow=True)
        assert Pause.objects.is_paused("mail")
        assert "Paused queue 'mail'" in messages_of(response)[0]
        admin_client.post(RESUME, {"queue": "mail"})
        assert not Pause.objects.is_paused("mail")

    def test_pause_needs_post_and_a_name(self, admin_client, db):
        assert admin_client.get(PAUSE, {"queue": "mail"}).status_code == 405
        assert admin_client.post(PAUSE, {"queue": " "}).status_code == 400
        assert not Pause.objects.exists()

    def test_pause_needs_csrf(self, db):
        client = client_with("view_job", "pause_queue")
        client.handler.enforce_csrf_checks = True
        assert client.post(PAUSE, {"queue": "mail"}).status_code == 403
        assert not Pause.objects.exists()

    def test_clear_discards_only_that_queues_pending_jobs(self, admin_client, jobs):
        mail = [tasks.add.using(queue_name="mail").enqueue(i, i) for i in range(3)]
        confirm = admin_client.get(CLEAR, {"queue": "mail"})
        assert b"Discard 3 pending jobs" in confirm.content
        assert ReadyExecution.objects.filter(queue_name="mail").count() == 3
        response = admin_client.post(CLEAR, {"queue": "mail"}, follow=True)
        assert "Discarded 3 pending jobs of queue 'mail'." in messages_of(response)
        assert all(job(r.id).discarded_at for r in mail)
        assert ReadyExecution.objects.filter(job=jobs.ready).exists()  # other queue untouched

    def test_clear_is_capped(self, admin_client, db, monkeypatch):
        monkeypatch.setattr(queues_admin, "CLEAR_LIMIT", 2)
        monkeypatch.setattr(queues_admin, "CLEAR_BATCH", 1)
        for i in range(3):
            tasks.add.using(queue_name="mail").enqueue(i, i)
        response = admin_client.post(CLEAR, {"queue": "mail"}, follow=True)
        assert "Discarded 2 pending jobs of queue 'mail'." in messages_of(response)
        assert any("Clear it again" in m for m in messages_of(response))
        assert ReadyExecution.objects.filter(queue_name="mail").count() == 1


# --- permissions and read-only ----------------------------------------------------------------


class TestPermissions:
    def test_staff_without_view_permission_sees_nothing(self, db):
        client = client_with()
        for url in (JOBS, DASHBOARD, QUEUES, WORKERS, RECURRING):
            assert client.get(url).status_code == 403, url

    def test_view_permission_shows_pages_but_no_actions(self, jobs):
        client = client_with("view_job", "view_process", "view_recurringtask")
        for url in (JOBS, DASHBOARD, QUEUES, WORKERS, RECURRING, change_url(jobs.failed)):
            assert client.get(url).status_code == 200, url
        assert not client.get(JOBS).context["action_form"]
        queues_page = client.get(QUEUES).content
        assert b">Pause<" not in queues_page and b"Clear pending" not in queues_page
        assert b'name="CHANGE_FORM-action"' not in client.get(change_url(jobs.failed)).content

    @pytest.mark.parametrize(
        ("permission", "action", "state"),
        [
            ("retry_job", "retry_jobs", "failed"),
            ("discard_job", "discard_jobs", "ready"),
            ("run_job_now", "run_jobs_now", "scheduled"),
        ],
    )
    def test_each_action_needs_its_own_permission(self, jobs, permission, action, state):
        target = getattr(jobs, state)
        others = [p for p in ("retry_job", "discard_job", "run_job_now") if p != permission]
        without = client_with("view_job", *others, username="without")
        data = {"action": action, "_selected_action": [str(target.pk)], "index": "0"}
        refused = without.post(JOBS, data, follow=True)
        assert "No action selected." in messages_of(refused)
        refused = without.post(JOBS, {**data, "post": "yes"}, follow=True)
        assert "No action selected." in messages_of(refused)
        assert job(str(target.pk)).execution(helpers.EXECUTIONS[state]) is not None
        with_it = client_with("view_job", permission, username="with")
        names = [
            name for name, _ in with_it.get(JOBS).context["action_form"].fields["action"].choices
        ]
        assert action in names
        act(with_it, action, [target.pk])
        assert job(str(target.pk)).execution(helpers.EXECUTIONS[state]) is None

    def test_an_action_on_the_job_page_needs_its_permission(self, jobs):
        client = client_with("view_job", "discard_job")
        url = change_url(jobs.failed)
        data = {"CHANGE_FORM-action": "retry_jobs", "_selected_action": str(jobs.failed.pk)}
        client.post(url, {**data, "post": "yes"})
        assert FailedExecution.objects.filter(job=jobs.failed).exists()

    def test_pause_and_clear_need_their_permissions(self, jobs):
        viewer = client_with("view_job", "discard_job")
        assert viewer.post(PAUSE, {"queue": "default"}).status_code == 403
        assert viewer.post(RESUME, {"queue": "default"}).status_code == 403
        pauser = client_with("view_job", "pause_queue", username="pauser")
        assert pauser.get(CLEAR, {"queue": "default"}).status_code == 403
        assert pauser.post(CLEAR, {"queue": "default"}).status_code == 403
        assert ReadyExecution.objects.filter(job=jobs.ready).exists()
        assert pauser.post(PAUSE, {"queue": "default"}).status_code == 302
        assert Pause.objects.is_paused("default")

    def test_nothing_is_editable_added_or_deleted_by_hand(self, admin_client, jobs):
        for model, obj in (
            ("job", jobs.failed),
            ("process", jobs.worker),
        ):
            add = reverse(f"admin:django_solidq_{model}_add")
            assert admin_client.get(add).status_code == 403
            change = reverse(f"admin:django_solidq_{model}_change", args=[obj.pk])
            assert admin_client.post(change, {"queue_name": "x", "kind": "x"}).status_code == 403
            delete = reverse(f"admin:django_solidq_{model}_delete", args=[obj.pk])
            assert admin_client.post(delete, {"post": "yes"}).status_code == 403
        assert Job.objects.get(pk=jobs.failed.pk).queue_name == "default"
        content = admin_client.get(JOBS).content
        assert b"delete_selected" not in content

    def test_execution_tables_and_pauses_are_not_registered(self, admin_client, db):
        from django.contrib import admin

        registered = {m._meta.model_name for m in admin.site._registry}
        assert {"job", "process", "recurringtask"} <= registered
        assert not registered & {
            "readyexecution",
            "claimedexecution",
            "failedexecution",
            "scheduledexecution",
            "blockedexecution",
            "pause",
            "semaphore",
        }


# --- model methods the admin relies on ------------------------------------------------------


class TestModelMethods:
    def test_distinct_values_is_a_loose_scan(self, db):
        for queue in ("b", "a", "b", "c"):
            tasks.add.using(queue_name=queue).enqueue(1, 1)
        assert reporting.distinct_values(Job.objects.all(), "queue_name") == ["a", "b", "c"]
        ready = ReadyExecution.objects.all()
        assert reporting.distinct_values(ready, "queue_name", limit=2) == ["a", "b"]

    def test_scheduled_run_now_and_discard(self, db):
        first = tasks.add.using(run_after=timedelta(hours=1)).enqueue(1, 1)
        second = tasks.add.using(run_after=timedelta(hours=1)).enqueue(2, 2)
        assert ScheduledExecution.objects.filter(job_id=first.id).run_now() == 1
        assert ReadyExecution.objects.filter(job_id=first.id).exists()
        assert ScheduledExecution.objects.filter(job_id=second.id).discard() == 1
        assert job(second.id).discarded_at is not None

    def test_blocked_and_ready_discard(self, db):
        from tests.admin.test_admin_support import blocked_job

        blocked = blocked_job()
        assert BlockedExecution.objects.discard() == 1
        assert job(str(blocked.pk)).discarded_at is not None
        ready = tasks.add.enqueue(1, 1)
        assert ReadyExecution.objects.discard() == 1
        assert job(ready.id).discarded_at is not None
        assert ReadyExecution.objects.discard() == 0

    def test_queue_stats_include_paused_and_configured_queues(self, db):
        Pause.objects.pause("quiet")
        tasks.add.using(queue_name="busy").enqueue(1, 1)
        stats = {row.name: row.as_dict() for row in reporting.queue_stats(cap=10)}
        assert stats["quiet"]["paused"] and stats["quiet"]["pending"] == 0
        assert stats["busy"]["pending"] == 1 and stats["busy"]["latency"] is not None

    def test_queue_stats_list_queues_holding_only_scheduled_blocked_or_failed_jobs(self, db):
        tasks.add.using(queue_name="later", run_after=timedelta(hours=1)).enqueue(1, 1)
        blocked = blocked_job()
        Job.objects.filter(pk=blocked.pk).update(queue_name="waiting")
        BlockedExecution.objects.filter(job=blocked).update(queue_name="waiting")
        failed = tasks.fail.using(queue_name="broken").enqueue("x")
        perform_enqueued_jobs()
        stats = {row.name: row.as_dict() for row in reporting.queue_stats(cap=10)}
        assert stats["later"]["scheduled"] == 1 and stats["later"]["pending"] == 0
        assert "waiting" in stats
        assert stats["broken"]["failed"] == 1
        assert FailedExecution.objects.get(job_id=failed.id).queue_name == "broken"

    def test_a_failure_keeps_its_task_queue_and_exception_class(self, db):
        failed = failed_job()
        row = FailedExecution.objects.get(job=failed)
        assert (row.task_path, row.queue_name, row.exception_class) == (
            "tests.app.tasks.fail",
            "default",
            "tests.app.tasks.Boom",
        )
        assert reporting.recent_exception_classes(10) == ["tests.app.tasks.Boom"]

    def test_migration_0002_fills_the_failure_columns_of_older_rows(self, db):
        import importlib

        from django.apps import apps
        from django.db import connections

        failed = failed_job()
        FailedExecution.objects.filter(job=failed).update(
            task_path="", queue_name="", exception_class=""
        )
        migration = importlib.import_module(
            "django_solidq.migrations.0002_failure_columns_and_search_indexes"
        )
        db_alias = FailedExecution.objects.db

        class Editor:
            connection = connections[db_alias]

        migration.fill_failure_columns(apps, Editor())
        row = FailedExecution.objects.get(job=failed)
        assert (row.task_path, row.queue_name, row.exception_class) == (
            "tests.app.tasks.fail",
            "default",
            "tests.app.tasks.Boom",
        )

    def test_throughput_and_task_stats(self, db):
        tasks.add.enqueue(1, 1)
        failed_job()
        since = timezone.now() - timedelta(hours=1)
        assert sum(reporting.finished_per_minute(since).values()) == 1
        assert sum(reporting.failed_per_minute(since).values()) == 1
        assert reporting.top_failing_tasks(since) == [("tests.app.tasks.fail", 1)]
        assert reporting.durations_by_task(since)[0]["task_path"] == "tests.app.tasks.add"


# --- without django-admin-interface ------------------------------------------------------------


def test_every_page_renders_with_the_stock_admin(admin_client, jobs):
    """Mission Control extends the stock admin templates: every page works, and shows its
    data, in a project without django-admin-interface."""
    from unittest import mock

    from django.conf import settings
    from django.contrib import admin
    from django.test import override_settings

    apps = [app for app in settings.INSTALLED_APPS if app not in ("admin_interface", "colorfield")]
    registry = {
        model: model_admin
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label != "admin_interface"
    }
    task = RecurringTask.objects.create(key="nightly", schedule="@daily", task_path="x.y")
    pages = {
        DASHBOARD: "Throughput",
        QUEUES: 'data-queue="default"',
        WORKERS: "worker-1",
        reverse("admin:django_solidq_process_change", args=[jobs.worker.pk]): "worker-1",
        RECURRING: "nightly",
        reverse("admin:django_solidq_recurringtask_change", args=[task.pk]): "nightly",
        change_url(jobs.failed): "Full traceback",
        CLEAR + "?queue=default": "Clear queue default?",
        **{f"{JOBS}?status={state}": str(getattr(jobs, state).pk)[:8] for state in STATE_NAMES},
    }
    with (
        override_settings(INSTALLED_APPS=apps),
        mock.patch.object(admin.site, "_registry", registry),
    ):
        for url, expected in pages.items():
            response = admin_client.get(url)
            content = response.content.decode()
            assert response.status_code == 200, url
            assert "admin-interface" not in content, url
            assert expected.lower() in content.lower(), (url, expected)
        confirm = act(admin_client, "discard_jobs", [jobs.failed.pk], confirm=False)
        assert b"are you sure" in confirm.content.lower()
