"""A curtailment plan's life: its status (what people decide) and its phase (what its miners are doing).

    status  pending ─approve─▶ approved ─start─▶ executing ─measured─▶ executed
              │                  │                 │
              └──────cancel──────┴───▶ cancelled   └─shutdown_failed─▶ failed
    phase   idle ─▶ shutting_down ─▶ holding ─▶ recovering ─▶ recovered

Every change goes through `advance`, which knows every legal (status, phase, action) and refuses the rest
(`IllegalTransition`), so no other code can move a plan backwards, skip its recovery or touch a finished
one. The two dimensions keep the statuses the hosting platform used and still say where the miners are:

- A plan whose miners were told to sleep always passes through `recovering` to `recovered` before it is
  finished, whatever ends it (its recovery time, a cancellation, a failed measurement): no miner is left
  asleep by a rule of this machine.
- `cancel` of a pending or approved plan ends it at once (nothing was sent); of an executing plan it
  cancels it and wakes whatever was put to sleep; of an executed plan still holding its miners it ends the
  curtailment early (the status stays `executed`; the timeline says who ended it).
- `shutdown_failed` covers every way a shutdown does not achieve its target: the miners' power did not drop,
  no miner accepted the command, or the recovery time came before the shutdown finished. `fail` is for an
  approved plan that could not start at all (no miner could be curtailed).
- `reschedule` moves the recovery time (the automatic policy holding its miners longer, or releasing them
  early) while the plan has not begun its recovery.
"""

from dataclasses import dataclass
from enum import StrEnum


class PlanStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    EXECUTING = "executing"
    EXECUTED = "executed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class PlanPhase(StrEnum):
    IDLE = "idle"
    """Nothing was sent to a miner."""
    SHUTTING_DOWN = "shutting_down"
    """Sleep commands are being sent, then the drop is measured."""
    HOLDING = "holding"
    """The miners sleep until the recovery time."""
    RECOVERING = "recovering"
    """Wake-up commands are being sent, in reverse order."""
    RECOVERED = "recovered"
    """Every miner the plan put to sleep was told to wake up."""


class PlanAction(StrEnum):
    APPROVE = "approve"
    CANCEL = "cancel"
    START = "start"
    MEASURED = "measured"
    SHUTDOWN_FAILED = "shutdown_failed"
    FAIL = "fail"
    RECOVERY_DUE = "recovery_due"
    RECOVERED = "recovered"
    RESCHEDULE = "reschedule"


@dataclass(frozen=True)
class PlanState:
    status: PlanStatus
    phase: PlanPhase

    def __str__(self) -> str:
        return f"{self.status}/{self.phase}"


class IllegalTransition(ValueError):
    def __init__(self, state: PlanState, action: PlanAction) -> None:
        super().__init__(f"a plan that is {state} cannot {action}")
        self.state = state
        self.action = action


S, P, A = PlanStatus, PlanPhase, PlanAction
NEW = PlanState(S.PENDING, P.IDLE)

_TRANSITIONS: dict[tuple[PlanState, PlanAction], PlanState] = {
    (NEW, A.APPROVE): PlanState(S.APPROVED, P.IDLE),
    (NEW, A.CANCEL): PlanState(S.CANCELLED, P.IDLE),
    (NEW, A.RESCHEDULE): NEW,
    (PlanState(S.APPROVED, P.IDLE), A.CANCEL): PlanState(S.CANCELLED, P.IDLE),
    (PlanState(S.APPROVED, P.IDLE), A.START): PlanState(S.EXECUTING, P.SHUTTING_DOWN),
    (PlanState(S.APPROVED, P.IDLE), A.FAIL): PlanState(S.FAILED, P.IDLE),
    (PlanState(S.APPROVED, P.IDLE), A.RESCHEDULE): PlanState(S.APPROVED, P.IDLE),
    (PlanState(S.EXECUTING, P.SHUTTING_DOWN), A.MEASURED): PlanState(S.EXECUTED, P.HOLDING),
    (PlanState(S.EXECUTING, P.SHUTTING_DOWN), A.SHUTDOWN_FAILED): PlanState(S.FAILED, P.RECOVERING),
    (PlanState(S.EXECUTING, P.SHUTTING_DOWN), A.CANCEL): PlanState(S.CANCELLED, P.RECOVERING),
    (PlanState(S.EXECUTING, P.SHUTTING_DOWN), A.RESCHEDULE): PlanState(S.EXECUTING, P.SHUTTING_DOWN),
    (PlanState(S.EXECUTED, P.HOLDING), A.RECOVERY_DUE): PlanState(S.EXECUTED, P.RECOVERING),
    (PlanState(S.EXECUTED, P.HOLDING), A.CANCEL): PlanState(S.EXECUTED, P.RECOVERING),
    (PlanState(S.EXECUTED, P.HOLDING), A.RESCHEDULE): PlanState(S.EXECUTED, P.HOLDING),
    (PlanState(S.EXECUTED, P.RECOVERING), A.RECOVERED): PlanState(S.EXECUTED, P.RECOVERED),
    (PlanState(S.CANCELLED, P.RECOVERING), A.RECOVERED): PlanState(S.CANCELLED, P.RECOVERED),
    (PlanState(S.FAILED, P.RECOVERING), A.RECOVERED): PlanState(S.FAILED, P.RECOVERED),
}

STATES: frozenset[PlanState] = frozenset({*(state for state, _ in _TRANSITIONS), *_TRANSITIONS.values()})
"""Every (status, phase) a plan can be in."""

STATUS_ORDER = (S.PENDING, S.APPROVED, S.EXECUTING, S.EXECUTED)
PHASE_ORDER = (P.IDLE, P.SHUTTING_DOWN, P.HOLDING, P.RECOVERING, P.RECOVERED)


def advance(state: PlanState, action: PlanAction) -> PlanState:
    """The state after `action`, or IllegalTransition (the state is unchanged: values are immutable)."""
    try:
        return _TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransition(state, action) from None


def allowed(state: PlanState, action: PlanAction) -> bool:
    return (state, action) in _TRANSITIONS


def actions_from(state: PlanState) -> frozenset[PlanAction]:
    return frozenset(action for (source, action) in _TRANSITIONS if source == state)


def finished(state: PlanState) -> bool:
    """Nothing more can happen to it (and no miner of it sleeps because of it)."""
    return not actions_from(state)


def miners_may_sleep(state: PlanState) -> bool:
    """Whether a miner of the plan may be asleep because of it (sleep sent, wake-up not yet done)."""
    return state.phase in (P.SHUTTING_DOWN, P.HOLDING, P.RECOVERING)


def state_of(status: str, phase: str) -> PlanState:
    """A stored (status, phase), refused when it is not a state this machine has."""
    state = PlanState(PlanStatus(status), PlanPhase(phase))
    if state not in STATES:
        raise ValueError(f"{state} is not a state a plan can be in")
    return state
