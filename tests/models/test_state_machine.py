"""Every execution table x every transition that applies to it x every kind of job, each
followed by the state machine's invariants (tests/state.py) and a probe: a new job on the
same key must meet exactly what the target job still holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from django_solidq.models import Job, ReadyExecution, Semaphore
from tests import state
from tests.app.state_tasks import KINDS

pytestmark = pytest.mark.django_db

# table -> transition -> (the target's mode, what the transition does to the target)
Transition = Callable[[Any], object]


def _perform(job_id: Any) -> None:
    state.perform_claimed(state.claimed_job(job_id))


TRANSITIONS: dict[str, dict[str, tuple[str, Transition]]] = {
    "ready": {
        "discard": ("ok", lambda j: state.discard("ready", [j])),
        "claim": ("ok", lambda j: state.claim(10)),
    },
    "scheduled": {
        "discard": ("ok", lambda j: state.discard("scheduled", [j])),
        "run now": ("ok", lambda j: state.run_now("scheduled", [j])),
        "dispatch": ("ok", lambda j: state.dispatch_due()),
    },
    "blocked": {
        "discard": ("ok", lambda j: state.discard("blocked", [j])),
        "run now": ("ok", lambda j: state.run_now("blocked", [j])),
        "maintenance": ("ok", lambda j: state.maintain()),
    },
    "claimed": {
        "finish": ("ok", _perform),
        "fail": ("fail", _perform),
        "retry": ("retry", _perform),
        "discard by rule": ("discard", _perform),
        "graceful release": ("ok", lambda j: state.release_gracefully([j])),
        "crash recovery": ("ok", lambda j: state.recover_crashed([j])),
        "timeout": ("ok", lambda j: state.time_out([j])),
    },
    "failed": {
        "discard": ("fail", lambda j: state.discard("failed", [j])),
        "admin retry": ("fail", lambda j: state.admin_retry([j])),
    },
}
CASES = [
    pytest.param(table, name, kind, id=f"{table}-{name}-{kind}")
    for table, transitions in TRANSITIONS.items()
    for name in transitions
    for kind in KINDS
    if table != "blocked" or kind == "limited/block"  # only a limit that blocks blocks
]


def place(table: str, kind: str, mode: str) -> Any:
    """A job of ``kind`` in ``table``, with company on its key: for a blocking limit (2
    permits) another holder before it and a blocked waiter after it."""
    blocking = kind == "limited/block"
    if blocking:
        state.enqueue(kind, 100)  # a holder
        if table == "blocked":
            state.enqueue(kind, 101)  # the key is full: the target blocks
    target = state.enqueue(kind, 1, mode=mode, later=table == "scheduled")
    if blocking and table != "blocked":
        state.enqueue(kind, 102, later=False)  # waits if the target holds a permit
    if table in ("claimed", "failed"):
        state.claim(10)
    if table == "failed":
        _perform(target)
    assert state.where(target) == table, f"set-up put the target in {state.where(target)}"
    state.assert_invariants(f"after placing a {kind} job in {table}")
    return target


def probe(kind: str, target: Any) -> None:
    """Enqueue another job on the target's key: it meets exactly what the target holds."""
    target_job = Job.objects.get(id=target)
    live = Job.objects.live().filter(id=target).exists()
    if kind.startswith("unique/"):
        other = state.enqueue(kind, 2)
        if not live:
            assert state.where(other) in ("ready", "claimed"), "the key was not given back"
        elif kind == "unique/return":
            assert other == target, "a live unique job's key was not held"
        else:
            assert state.where(other) == "discarded", "a live unique job's key was not held"
    elif kind == "limited/discard":
        holding = ReadyExecution.objects.filter(job_id=target).exists() or (
            target_job.claimedexecution if hasattr(target_job, "claimedexecution") else None
        )
        other = state.enqueue(kind, 2)
        expected = "discarded" if holding else "ready"
        assert state.where(other) == expected, "the permit does not match its holder"
    state.assert_invariants("after the probe")


@pytest.mark.parametrize(("table", "transition", "kind"), CASES)
def test_transition_keeps_the_invariants(table: str, transition: str, kind: str) -> None:
    mode, apply = TRANSITIONS[table][transition]
    target = place(table, kind, mode)
    apply(target)
    state.assert_invariants(f"after {transition} from {table}")
    probe(kind, target)


# --- the defects this suite was written for, as users met them -----------------------------


def test_discarding_a_ready_limited_job_hands_its_permit_to_the_blocked_one() -> None:
    """Admin Discard / Clear queue on a ready job that held the key's only permit."""
    from tests.app import tasks

    holder = tasks.once_per_account.enqueue("acme")
    state.discard("ready", [holder.id])
    assert Semaphore.objects.get(key__endswith="/acme").value == 1
    again = tasks.once_per_account.enqueue("acme")
    assert state.where(again.id) == "ready"


def test_discarding_a_ready_job_unblocks_the_next_job_of_its_key() -> None:
    from django_solidq.testing import perform_enqueued_jobs
    from tests.app import tasks

    first = tasks.in_sequence.enqueue("/dev/null", "A")
    second = tasks.in_sequence.enqueue("/dev/null", "B")
    assert (state.where(first.id), state.where(second.id)) == ("ready", "blocked")
    ReadyExecution.objects.filter(job_id=first.id).discard()
    assert state.where(second.id) == "ready"
    assert [r.return_value for r in perform_enqueued_jobs()] == ["B"]
    state.assert_invariants()


def test_retrying_a_failed_unique_job_takes_its_key_back() -> None:
    from django_solidq.testing import perform_enqueued_jobs

    failed = state.enqueue("unique/return", 1, key="u1", mode="fail")
    perform_enqueued_jobs()
    assert state.where(failed) == "failed"
    assert state.admin_retry([failed]) == 1
    again = state.enqueue("unique/return", 2, key="u1")
    assert again == failed, "a second live job was created with the same unique key"
    state.assert_invariants()


def test_a_failed_unique_job_is_left_failed_while_another_job_holds_its_key() -> None:
    from django_solidq.testing import perform_enqueued_jobs

    failed = state.enqueue("unique/return", 1, key="u1", mode="fail")
    perform_enqueued_jobs()
    newer = state.enqueue("unique/return", 2, key="u1")
    assert newer != failed and state.where(newer) == "ready"
    assert state.admin_retry([failed]) == 0
    assert state.where(failed) == "failed"
    state.assert_invariants()


def test_a_taken_unique_key_outlives_its_rows_expiry() -> None:
    """Maintenance never frees a unique key while its job is live, however long it waits."""
    from datetime import timedelta

    from django.utils import timezone

    waiting = state.enqueue("unique/return", 1, key="u1", later=True)
    Semaphore.objects.update(expires_at=timezone.now() - timedelta(days=2))
    state.maintain()
    assert state.enqueue("unique/return", 2, key="u1") == waiting
    state.assert_invariants()
