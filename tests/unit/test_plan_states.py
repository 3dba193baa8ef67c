"""The plan state machine: hypothesis drives random sequences of actions through it and checks that nothing
illegal ever happens — no state outside the machine, nothing moves backwards, finished plans stay finished,
and a plan whose miners may be asleep can always be brought to `recovered`."""

import itertools
from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st
from windhash_plans.domain.plan_states import (
    NEW,
    PHASE_ORDER,
    STATES,
    STATUS_ORDER,
    IllegalTransition,
    PlanAction,
    PlanPhase,
    PlanState,
    PlanStatus,
    actions_from,
    advance,
    finished,
    miners_may_sleep,
    state_of,
)

actions = st.lists(st.sampled_from(list(PlanAction)), max_size=40)


def _status_rank(status: PlanStatus) -> int:
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else len(STATUS_ORDER)


def _walk(sequence: list[PlanAction]) -> list[PlanState]:
    states = [NEW]
    for action in sequence:
        current = states[-1]
        try:
            states.append(advance(current, action))
        except IllegalTransition as refused:
            assert refused.state == current and refused.action == action
            assert action not in actions_from(current)
    return states


@given(actions)
def test_every_reachable_state_is_a_state_of_the_machine(sequence: list[PlanAction]) -> None:
    assert all(state in STATES for state in _walk(sequence))


@given(actions)
def test_nothing_moves_backwards(sequence: list[PlanAction]) -> None:
    states = _walk(sequence)
    for before, after in itertools.pairwise(states):
        assert PHASE_ORDER.index(after.phase) >= PHASE_ORDER.index(before.phase)
        assert _status_rank(after.status) >= _status_rank(before.status)
        if before.status in (PlanStatus.CANCELLED, PlanStatus.FAILED):
            assert after.status == before.status


@given(actions)
def test_a_finished_plan_accepts_nothing(sequence: list[PlanAction]) -> None:
    for state in _walk(sequence):
        if finished(state):
            for action in PlanAction:
                with pytest.raises(IllegalTransition):
                    advance(state, action)


@given(actions)
def test_executed_is_only_reached_through_a_measured_shutdown(sequence: list[PlanAction]) -> None:
    states = _walk(sequence)
    for index, state in enumerate(states):
        if state.status is PlanStatus.EXECUTED:
            assert PlanState(PlanStatus.EXECUTING, PlanPhase.SHUTTING_DOWN) in states[:index]


def _can_recover(state: PlanState) -> bool:
    """Breadth-first: a finished state is reachable with the actions that end a plan, none that starts one."""
    ending = (PlanAction.CANCEL, PlanAction.RECOVERY_DUE, PlanAction.SHUTDOWN_FAILED, PlanAction.RECOVERED)
    seen, queue = {state}, deque([state])
    while queue:
        current = queue.popleft()
        if finished(current):
            return current.phase in (PlanPhase.IDLE, PlanPhase.RECOVERED)
        for action in ending:
            if action in actions_from(current):
                following = advance(current, action)
                if following not in seen:
                    seen.add(following)
                    queue.append(following)
    return False


@given(actions)
def test_no_state_strands_a_miner(sequence: list[PlanAction]) -> None:
    for state in _walk(sequence):
        assert _can_recover(state), state
        if state.phase in (PlanPhase.SHUTTING_DOWN, PlanPhase.HOLDING):
            # An operator can always bring the miners back, and it starts their recovery.
            assert advance(state, PlanAction.CANCEL).phase is PlanPhase.RECOVERING


def test_every_finished_state_has_no_miner_asleep_because_of_it() -> None:
    for state in STATES:
        if finished(state):
            assert not miners_may_sleep(state)


def test_the_life_of_a_plan_that_runs_its_course() -> None:
    state = NEW
    for action in (
        PlanAction.APPROVE,
        PlanAction.START,
        PlanAction.MEASURED,
        PlanAction.RECOVERY_DUE,
        PlanAction.RECOVERED,
    ):
        state = advance(state, action)
    assert state == PlanState(PlanStatus.EXECUTED, PlanPhase.RECOVERED) and finished(state)


def test_illegal_transitions_are_refused_with_the_state_and_the_action() -> None:
    with pytest.raises(IllegalTransition, match="pending/idle cannot start"):
        advance(NEW, PlanAction.START)
    with pytest.raises(IllegalTransition):
        advance(PlanState(PlanStatus.EXECUTED, PlanPhase.RECOVERED), PlanAction.CANCEL)


def test_a_stored_pair_outside_the_machine_is_refused() -> None:
    assert state_of("executed", "holding") == PlanState(PlanStatus.EXECUTED, PlanPhase.HOLDING)
    with pytest.raises(ValueError):
        state_of("pending", "holding")
    with pytest.raises(ValueError):
        state_of("running", "idle")


def test_who_may_cancel_which_plan() -> None:
    import uuid

    from windhash_common.access.roles import Role
    from windhash_plans.domain.plan_permissions import may_cancel, proposable

    me, other = uuid.uuid4(), uuid.uuid4()
    assert may_cancel(Role.ADMIN, "executed", other, me) and may_cancel(Role.OWNER, "pending", None, me)
    assert may_cancel(Role.USER, "pending", me, me)
    assert not may_cancel(Role.USER, "approved", me, me)
    assert not may_cancel(Role.USER, "pending", other, me)
    assert not may_cancel(Role.CLIENT, "pending", me, me) and not may_cancel(None, "pending", None, None)
    assert proposable("manual") and proposable("scheduled") and not proposable("automatic")
