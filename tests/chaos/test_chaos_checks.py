"""The chaos soak's checks on made-up ledgers: they must catch what they promise to catch."""

from __future__ import annotations

from benchmarks.chaos_checks import (
    JobRow,
    Run,
    completions,
    enqueue_accounting,
    limits,
    most_at_once,
    run_intervals,
)


def job(
    id: str, kind: str = "fast", token: str = "", lost: int = 0, **times: float | None
) -> JobRow:
    return JobRow(
        id=id,
        kind=kind,
        token=token or id,
        enqueued_at=times.get("enqueued") or 0.0,
        scheduled_at=None,
        finished_at=times.get("finished", 10.0),
        discarded=False,
        failed=False,
        lost_attempts=lost,
    )


def run(job_id: str, event: str, at: float, attempt: int = 1, pid: int = 1, **kw: str) -> Run:
    return Run(job_id, kw.get("kind", "fast"), kw.get("key", ""), attempt, pid, event, at)


def test_a_second_completion_counts_only_with_a_recorded_lost_attempt():
    runs = [run("a", "end", 1), run("a", "end", 2), run("b", "end", 1), run("b", "end", 2)]
    result = completions(runs, [job("a", lost=1), job("b")])
    assert result["duplicates"] == 2
    assert result["duplicates_without_lost_attempt"] == 1
    assert result["duplicate_examples"] == ["b"]


def test_a_finished_job_without_any_run_and_an_unfinished_job_are_both_reported():
    result = completions([], [job("a"), job("b", finished=None)])
    assert result["finished_without_a_run"] == 1
    assert result["unfinished_count"] == 1


def test_a_killed_run_ends_when_its_process_was_killed():
    runs = [
        run("a", "start", 0.0, pid=7, kind="limited", key="k"),
        run("b", "start", 1.0, pid=8, kind="limited", key="k"),
        run("b", "end", 5.0, pid=8, kind="limited", key="k"),
        run("c", "start", 2.0, pid=9, kind="limited", key="k"),
        run("c", "end", 3.0, pid=9, kind="limited", key="k"),
    ]
    killed_early = limits(run_intervals(runs, {7: 1.5}, end_of_soak=100.0), limit=2)
    assert killed_early["limited_peak"] == 2
    never_killed = limits(run_intervals(runs, {}, end_of_soak=100.0), limit=2)
    assert never_killed["limited_peak"] == 3
    assert never_killed["limited_keys_over_limit"] == 1


def test_runs_touching_end_to_start_do_not_overlap():
    assert most_at_once([(0.0, 1.0), (1.0, 2.0)]) == 1
    assert most_at_once([(0.0, 1.5), (1.0, 2.0)]) == 2


def test_two_live_jobs_of_one_unique_key_are_caught_but_successive_ones_are_not():
    successive = [
        job("a", "unique", "t", enqueued=0.0, finished=1.0),
        job("b", "unique", "t", enqueued=2.0, finished=3.0),
    ]
    overlapping = [
        job("c", "unique", "u", enqueued=0.0, finished=5.0),
        job("d", "unique", "u", enqueued=2.0, finished=6.0),
    ]
    result = enqueue_accounting(
        {"t": "unique", "u": "unique", "v": "fast"}, successive + overlapping
    )
    assert result["unique_keys_live_twice"] == 1
    assert result["acknowledged_without_job"] == 1  # "v" has no job


def test_a_duplicate_whose_enqueue_waited_for_the_first_to_finish_is_not_live_twice():
    """The second job is stamped (enqueued_at 2.0) before the first's finish (3.0), but its
    enqueue waited on the key's lock and returned at 3.5, after that finish committed."""
    first = job("a", "unique", "t", enqueued=0.0, finished=3.0)
    second = job("b", "unique", "t", enqueued=2.0, finished=6.0)
    waited = enqueue_accounting({"t": "unique"}, [first, second], {"b": 3.5})
    assert waited["unique_keys_live_twice"] == 0
    # Returned before the first finished: both were live at once.
    early = enqueue_accounting({"t": "unique"}, [first, second], {"b": 2.5})
    assert early["unique_keys_live_twice"] == 1
    # No return time (the reply was lost): judged by enqueued_at, as before.
    assert enqueue_accounting({"t": "unique"}, [first, second])["unique_keys_live_twice"] == 1
