"""A stateful property test of the job state machine: random sequences of every transition
over a few keys, with the invariants of tests/state.py checked after every step."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from django_solidq.backend import enqueue_all
from django_solidq.models import Job, Process, Semaphore
from tests import state
from tests.app.state_tasks import KINDS

pytestmark = pytest.mark.django_db

kinds = st.sampled_from(sorted(KINDS))
keys = st.sampled_from(["a", "b"])
modes = st.sampled_from(["ok", "ok", "fail", "retry", "discard"])
picks = st.integers(min_value=0, max_value=1_000)


class JobStateMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        Job.objects.all().delete()  # cascades to every execution row
        Semaphore.objects.all().delete()
        Process.objects.all().delete()
        self.n = 0

    def _next(self) -> int:
        self.n += 1
        return self.n

    def _pick(self, table: str, pick: int) -> list[Any]:
        ids = list(state.TABLES[table].objects.order_by("id").values_list("job_id", flat=True))
        return [ids[pick % len(ids)]] if ids else []

    @rule(kind=kinds, key=keys, mode=modes, later=st.booleans())
    def enqueue(self, kind: str, key: str, mode: str, later: bool) -> None:
        state.enqueue(kind, self._next(), key=key, mode=mode, later=later)

    @rule(calls=st.lists(st.tuples(kinds, keys, modes), min_size=1, max_size=4))
    def enqueue_all(self, calls: list[tuple[str, str, str]]) -> None:
        enqueue_all(
            [KINDS[kind].bind(self._next(), key=key, mode=mode) for kind, key, mode in calls]
        )

    @rule()
    def dispatch(self) -> None:
        state.dispatch_due()

    @rule(limit=st.integers(min_value=1, max_value=3))
    def claim(self, limit: int) -> None:
        state.claim(limit)

    @rule(pick=picks)
    def perform(self, pick: int) -> None:
        for job_id in self._pick("claimed", pick):
            state.perform_claimed(state.claimed_job(job_id))

    @rule(table=st.sampled_from(["ready", "scheduled", "blocked", "failed"]), pick=picks)
    def discard(self, table: str, pick: int) -> None:
        state.discard(table, self._pick(table, pick))

    @rule(table=st.sampled_from(["scheduled", "blocked"]), pick=picks)
    def run_now(self, table: str, pick: int) -> None:
        state.run_now(table, self._pick(table, pick))

    @rule(pick=picks)
    def admin_retry(self, pick: int) -> None:
        state.admin_retry(self._pick("failed", pick))

    @rule(pick=picks)
    def crash_recovery(self, pick: int) -> None:
        state.recover_crashed(self._pick("claimed", pick))

    @rule(pick=picks)
    def graceful_release(self, pick: int) -> None:
        state.release_gracefully(self._pick("claimed", pick))

    @rule(pick=picks)
    def timeout(self, pick: int) -> None:
        state.time_out(self._pick("claimed", pick))

    @rule()
    def maintenance(self) -> None:
        state.maintain()

    @invariant()
    def invariants_hold(self) -> None:
        state.assert_invariants("after this step")


def test_random_transition_sequences_keep_the_invariants() -> None:
    run_state_machine_as_test(
        JobStateMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,  # no example database in the checkout: every run starts fresh
        ),
    )
