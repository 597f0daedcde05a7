"""runjobs end to end: real subprocesses, real signals, polling with timeouts. What needs
no process of its own is tested in this one: tests/runtime/."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.tasks import TaskResultStatus, default_task_backend

from django_solidq.models import ClaimedExecution, Job, Process, ReadyExecution
from tests.app import tasks
from tests.harness import child_pids, pid_alive, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.process]

ONE_THREAD = {"WORKERS": [{"queues": ["*"], "threads": 1, "polling_interval": 0.05}]}


def status(result_id: str) -> str:
    return default_task_backend.get_result(result_id).status


def finished(*result_ids: str) -> bool:
    return all(
        status(rid) in (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED) for rid in result_ids
    )


def workers() -> list[Process]:
    return list(Process.objects.filter(kind="worker"))


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_a_newcomers_tasks_run_with_results_failures_priorities_and_delays(runjobs, tmp_path):
    log = tmp_path / "order.log"
    low = [tasks.record.enqueue(str(log), f"low{i}") for i in range(3)]
    high = tasks.record.using(priority=50).enqueue(str(log), "high")
    added = tasks.add.enqueue(2, 3)
    failed = tasks.fail.enqueue("kaboom")
    run_after = tasks.add.using(run_after=timedelta(seconds=2)).enqueue(1, 1)
    enqueued_at = time.time()

    supervisor = runjobs(config=ONE_THREAD)
    wait_for(
        lambda: finished(added.id, failed.id, run_after.id, high.id, *[r.id for r in low]),
        timeout=30,
        what="all jobs to finish",
    )

    assert default_task_backend.get_result(added.id).return_value == 5
    result = default_task_backend.get_result(failed.id)
    assert result.status == TaskResultStatus.FAILED
    assert result.errors[0].exception_class_path == "tests.app.tasks.Boom"
    assert "raise Boom(message)" in result.errors[0].traceback
    assert "kaboom" in result.errors[0].traceback
    starts = [line.split()[1] for line in lines(log) if line.startswith("start")]
    assert starts[0] == "high"
    delayed = default_task_backend.get_result(run_after.id)
    assert delayed.started_at.timestamp() >= enqueued_at + 2 - 0.05
    assert delayed.return_value == 2

    supervisor.send(signal.SIGTERM)
    assert supervisor.wait(10) == 0
    assert not Process.objects.exists()
    assert not ClaimedExecution.objects.exists()


def test_term_lets_a_job_shorter_than_the_shutdown_timeout_finish(runjobs, tmp_path):
    marker = tmp_path / "marker"
    result = tasks.sleep_then_mark.enqueue(str(marker), 1.0)
    supervisor = runjobs(config={"SHUTDOWN_TIMEOUT": 5})
    wait_for(marker.exists, what="the job to start")
    supervisor.send(signal.SIGTERM)
    assert supervisor.wait(10) == 0
    assert "finished" in marker.read_text()
    assert status(result.id) == TaskResultStatus.SUCCESSFUL


def test_term_with_a_job_longer_than_the_timeout_releases_it_to_run_exactly_once_more(
    runjobs, tmp_path
):
    log = tmp_path / "runs.log"
    result = tasks.record.enqueue(str(log), "long", sleep=4.0)
    supervisor = runjobs(config={"SHUTDOWN_TIMEOUT": 1})
    wait_for(lambda: len(lines(log)) == 1, what="the job to start")
    supervisor.send(signal.SIGTERM)
    assert supervisor.wait(10) == 0
    assert [line.split()[0] for line in lines(log)] == ["start"]  # it did not wait for it
    assert ReadyExecution.objects.filter(job_id=result.id).exists()
    assert not Process.objects.exists()
    assert Job.objects.get(id=result.id).errors == []

    runjobs(config={"SHUTDOWN_TIMEOUT": 1})
    wait_for(lambda: finished(result.id), timeout=20, what="the re-run")
    assert [line.split()[0] for line in lines(log)] == ["start", "start", "end"]
    assert status(result.id) == TaskResultStatus.SUCCESSFUL


def test_quit_stops_at_once_and_puts_the_job_back_in_ready(runjobs, tmp_path):
    marker = tmp_path / "marker"
    result = tasks.sleep_then_mark.enqueue(str(marker), 60)
    supervisor = runjobs()
    wait_for(marker.exists, what="the job to start")
    supervisor.send(signal.SIGQUIT)
    assert supervisor.wait(5) == 0
    assert "finished" not in marker.read_text()  # it did not wait for the job
    assert ReadyExecution.objects.filter(job_id=result.id).exists()
    assert not Process.objects.exists()


def test_a_killed_worker_is_replaced_and_its_job_reruns_with_the_lost_attempt_recorded(
    runjobs, tmp_path
):
    marker = tmp_path / "marker"
    result = tasks.sleep_then_mark.enqueue(str(marker), 1.5)
    supervisor = runjobs(config={"WORKERS": [{"queues": ["*"], "threads": 2}] * 2})
    wait_for(marker.exists, what="the job to start")
    claim = ClaimedExecution.objects.get(job_id=result.id)
    victim = Process.objects.get(id=claim.process_id)
    os.kill(victim.pid, signal.SIGKILL)

    wait_for(lambda: finished(result.id), timeout=30, what="the re-run")
    final = default_task_backend.get_result(result.id)
    assert final.status == TaskResultStatus.SUCCESSFUL
    assert final.attempts == 2
    assert [e.exception_class_path for e in final.errors] == [
        "django_solidq.exceptions.ProcessExitError"
    ]
    wait_for(lambda: len(workers()) == 2, what="a replacement worker")
    assert victim.name not in {p.name for p in workers()}
    supervisor.send(signal.SIGTERM)
    assert supervisor.wait(10) == 0


def test_a_killed_workers_jobs_claimed_ahead_go_back_untouched_and_only_its_running_job_counts(
    runjobs, tmp_path
):
    marker, ledger = tmp_path / "marker", tmp_path / "ledger"
    running = tasks.sleep_then_mark.enqueue(str(marker), 60)
    labels = ["w1", "w2", "w3"]
    waiting = [tasks.record.enqueue(str(ledger), label).id for label in labels]
    worker = {"queues": ["*"], "threads": 1, "prefetch": 5, "prefetch_wait": 60}
    supervisor = runjobs(config={"WORKERS": [worker], "SHUTDOWN_TIMEOUT": 1})
    wait_for(marker.exists, what="the long job to start")
    victim = wait_for(lambda: workers()[0] if workers() else None, what="the worker")
    wait_for(
        lambda: (
            {str(c.job_id) for c in ClaimedExecution.objects.filter(process_id=victim.id)}
            == {running.id, *waiting}
        ),
        what="three jobs claimed ahead",
    )
    assert lines(ledger) == []  # they wait: the worker's one thread runs the long job
    os.kill(victim.pid, signal.SIGKILL)

    wait_for(lambda: finished(*waiting), timeout=30, what="the waiting jobs on the replacement")
    for job_id in waiting:  # never started by the dead worker: no attempt counted
        final = default_task_backend.get_result(job_id)
        assert (final.attempts, final.errors) == (1, [])
        assert final.worker_ids != [victim.name]
    assert sorted(line.split()[1] for line in lines(ledger) if line.startswith("end")) == labels
    lost = default_task_backend.get_result(running.id)  # it ran: one lost attempt
    assert [e.exception_class_path for e in lost.errors] == [
        "django_solidq.exceptions.ProcessExitError"
    ]
    assert f"3 job(s) {victim.name} never started: back to ready" in supervisor.log()
    supervisor.send(signal.SIGTERM)
    assert supervisor.wait(15) == 0


def test_a_job_that_kills_its_worker_every_time_fails_after_the_cap(runjobs, tmp_path):
    counter = tmp_path / "attempts"
    doomed = tasks.exit_worker.enqueue(str(counter), 100)
    survivor = tasks.exit_worker.enqueue(str(tmp_path / "other"), 1)
    supervisor = runjobs(config={"MAX_LOST_ATTEMPTS": 2, **ONE_THREAD})
    wait_for(lambda: finished(doomed.id, survivor.id), timeout=40, what="both jobs to end")

    final = default_task_backend.get_result(doomed.id)
    assert final.status == TaskResultStatus.FAILED
    assert counter.read_text() == "2"
    assert len(final.errors) == 2
    assert default_task_backend.get_result(survivor.id).return_value == "survived"
    assert supervisor.alive()
    supervisor.send(signal.SIGTERM)
    assert supervisor.wait(10) == 0


def test_workers_of_a_killed_supervisor_finish_and_deregister(runjobs, tmp_path):
    marker = tmp_path / "marker"
    result = tasks.sleep_then_mark.enqueue(str(marker), 1.0)
    supervisor = runjobs(config={"PROCESS_HEARTBEAT_INTERVAL": 0.2})
    wait_for(marker.exists, what="the job to start")
    children = child_pids(supervisor.pid)
    assert children
    supervisor.send(signal.SIGKILL)
    supervisor.wait(5)
    wait_for(
        lambda: not any(pid_alive(pid) for pid in children),
        timeout=15,
        what="orphaned children to exit",
    )
    assert status(result.id) == TaskResultStatus.SUCCESSFUL
    assert list(Process.objects.values_list("kind", flat=True)) == ["supervisor"]

    runjobs(config={"PROCESS_ALIVE_THRESHOLD": 1, "PROCESS_HEARTBEAT_INTERVAL": 0.2})
    wait_for(
        lambda: not Process.objects.filter(kind="supervisor", pid=supervisor.pid).exists(),
        timeout=15,
        what="the stale supervisor to be pruned",
    )


def test_a_worker_whose_row_was_deleted_stops_itself_and_is_replaced(runjobs):
    supervisor = runjobs(config={"PROCESS_HEARTBEAT_INTERVAL": 0.2})
    first = wait_for(lambda: workers(), what="a worker")[0]
    Process.objects.filter(id=first.id).delete()
    wait_for(lambda: not pid_alive(first.pid), timeout=15, what="the worker to stop itself")
    wait_for(lambda: [w for w in workers() if w.name != first.name], what="a replacement")
    supervisor.send(signal.SIGTERM)
    assert supervisor.wait(10) == 0


def test_thread_mode_runs_everything_in_one_process(runjobs):
    ids = [tasks.add.enqueue(i, i).id for i in range(10)]
    supervisor = runjobs("--mode", "thread")
    wait_for(lambda: finished(*ids), what="jobs in thread mode")
    assert child_pids(supervisor.pid) == []
    supervisor.send(signal.SIGTERM)
    assert supervisor.wait(10) == 0
    assert not Process.objects.exists()


def test_pidfile_refuses_a_second_supervisor_and_takes_over_a_stale_one(runjobs, tmp_path):
    pidfile = tmp_path / "runjobs.pid"
    first = runjobs("--pidfile", str(pidfile))
    wait_for(pidfile.exists, what="the pidfile")
    second = runjobs("--pidfile", str(pidfile))
    assert second.wait(20) != 0
    assert "Another runjobs" in second.log()
    first.send(signal.SIGKILL)
    first.wait(5)
    third = runjobs("--pidfile", str(pidfile))
    wait_for(lambda: pidfile.read_text().strip() == str(third.pid), what="the takeover")


def test_a_burst_of_2000_jobs_on_two_workers_with_four_threads_each_all_complete(runjobs):
    from django_solidq import enqueue_all

    results = enqueue_all([tasks.add.bind(i, i) for i in range(2000)])
    config = {
        "WORKERS": [{"queues": ["*"], "threads": 4, "processes": 2, "polling_interval": 0.05}]
    }
    supervisor = runjobs(config=config)
    wait_for(
        lambda: not Job.objects.filter(finished_at__isnull=True).exists(),
        timeout=240,
        interval=0.5,
        what="2,000 jobs to finish",
    )
    assert Job.objects.filter(finished_at__isnull=False).count() == 2000
    assert not Job.objects.exclude(errors=[]).exists()
    sample = default_task_backend.get_result(results[1999].id)
    assert sample.return_value == 3998
    assert "exited with status" not in supervisor.log()
    supervisor.send(signal.SIGTERM)
    assert supervisor.wait(15) == 0


def test_a_job_stuck_in_c_past_timeout_and_grace_ends_with_its_worker_replaced(runjobs):
    stuck = tasks.stuck_in_c.enqueue(60)
    supervisor = runjobs(config={"TIMEOUT_GRACE": 1, **ONE_THREAD})
    first = wait_for(lambda: workers(), what="a worker")[0]
    wait_for(lambda: finished(stuck.id), timeout=30, what="the stuck job to end")
    final = default_task_backend.get_result(stuck.id)
    assert final.status == TaskResultStatus.FAILED
    assert [e.exception_class_path for e in final.errors] == ["django_solidq.exceptions.JobTimeout"]
    wait_for(lambda: [w for w in workers() if w.name != first.name], what="a new worker")
    after = tasks.add.enqueue(2, 2)
    wait_for(lambda: finished(after.id), what="the new worker to run jobs")
    assert supervisor.alive()


def max_overlap(log_lines: list[str]) -> int:
    running = peak = 0
    for line in log_lines:
        running += 1 if line.startswith("start") else -1
        peak = max(peak, running)
    return peak


def test_eleven_jobs_on_one_key_run_strictly_in_sequence_even_when_some_raise(runjobs, tmp_path):
    log = tmp_path / "seq.log"
    labels = "ABCDEFGHIJK"
    results = [tasks.in_sequence.enqueue(str(log), x, fail=x in "CG") for x in labels[:8]]
    results += [
        tasks.in_sequence.using(run_after=timedelta(seconds=1)).enqueue(str(log), x)
        for x in labels[8:]
    ]
    config = {"WORKERS": [{"queues": ["*"], "threads": 3, "processes": 2}]}
    runjobs(config=config)
    wait_for(lambda: finished(*[r.id for r in results]), timeout=60, what="all 11 jobs")
    entries = lines(log)
    assert max_overlap(entries) == 1
    assert [e.split()[1] for e in entries if e.startswith("start")] == list(labels)
    assert [status(r.id) for r in results].count(TaskResultStatus.FAILED) == 2


def test_to_three_never_runs_more_than_three_and_all_drain(runjobs, tmp_path):
    log = tmp_path / "trio.log"
    results = [tasks.three_at_a_time.enqueue(str(log), str(i), 0.3) for i in range(10)]
    config = {"WORKERS": [{"queues": ["*"], "threads": 5, "processes": 2}]}
    runjobs(config=config)
    wait_for(lambda: finished(*[r.id for r in results]), timeout=60, what="10 limited jobs")
    assert max_overlap(lines(log)) == 3
    assert all(status(r.id) == TaskResultStatus.SUCCESSFUL for r in results)


def test_term_one_worker_its_job_finishes_and_a_replacement_takes_new_jobs(runjobs, tmp_path):
    marker = tmp_path / "marker"
    running = tasks.sleep_then_mark.enqueue(str(marker), 1.0)
    supervisor = runjobs(config={"SHUTDOWN_TIMEOUT": 5})
    wait_for(marker.exists, what="the job to start")
    worker = workers()[0]
    os.kill(worker.pid, signal.SIGTERM)
    wait_for(lambda: finished(running.id), what="the in-flight job")
    assert status(running.id) == TaskResultStatus.SUCCESSFUL
    wait_for(lambda: [w for w in workers() if w.name != worker.name], what="a replacement")
    assert not Process.objects.filter(name=worker.name).exists()
    later = tasks.add.enqueue(5, 5)
    wait_for(lambda: finished(later.id), what="the replacement to work")
    supervisor.send(signal.SIGTERM)
    assert supervisor.wait(10) == 0


def test_a_rule_matching_process_exit_error_decides_for_lost_attempts(runjobs, tmp_path):
    counter = tmp_path / "n"
    doomed = tasks.exit_worker_with_rule.enqueue(str(counter))
    runjobs(config={"MAX_LOST_ATTEMPTS": 5, **ONE_THREAD})
    wait_for(lambda: finished(doomed.id), timeout=40, what="the rule to give up")
    assert counter.read_text() == "2"  # the rule's 2 attempts, not the cap's 5
    assert status(doomed.id) == TaskResultStatus.FAILED


def test_a_lost_host_s_job_reruns_on_another_supervisor(runjobs, tmp_path):
    # When pruning happens (threshold, fake clock): tests/runtime/test_supervisor.py.
    marker = tmp_path / "marker"
    timing = {"PROCESS_HEARTBEAT_INTERVAL": 0.5, "PROCESS_ALIVE_THRESHOLD": 2}
    result = tasks.sleep_then_mark.enqueue(str(marker), 2.0)
    host_a = runjobs(config=timing)
    wait_for(marker.exists, what="the job to start on host A")
    runjobs(config=timing)  # host B, already running when A is lost
    wait_for(lambda: Process.objects.filter(kind="supervisor").count() == 2, what="host B")
    os.killpg(host_a.pid, signal.SIGKILL)  # the whole host: supervisor and workers at once
    marker.unlink()
    wait_for(marker.exists, timeout=30, what="the job to run again on host B")
    wait_for(lambda: finished(result.id), timeout=30, what="the re-run to finish")
    final = default_task_backend.get_result(result.id)
    assert final.status == TaskResultStatus.SUCCESSFUL
    assert final.errors[0].exception_class_path == "django_solidq.exceptions.ProcessPrunedError"
