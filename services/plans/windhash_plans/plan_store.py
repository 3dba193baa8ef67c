"""Writing a plan: creating it with its miners, and every transition of it, each in the caller's transaction
with its timeline row, its `PlanEvent` in the outbox and its audit record.

`transition` is the only code that changes a plan's status or phase: it locks the plan's row, asks the state
machine (`domain.plan_states.advance`) for the next state, refusing what is illegal, and writes it. Whoever
calls it (the HTTP app for a person, the executor, the automatic policy) gets the same rules and leaves the
same trail.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
from windhash_common.audit import Actor, record_audit, redacted
from windhash_common.events_plans import PlanEvent
from windhash_common.outbox import add_to_outbox, outbox_message
from windhash_common.topics import Topics

from windhash_plans.domain.miner_choice import ChosenMiner
from windhash_plans.domain.plan_states import (
    NEW,
    PlanAction,
    PlanPhase,
    PlanState,
    PlanStatus,
    advance,
    state_of,
)
from windhash_plans.queries import plans as queries

TARGET = "curtailment_plan"
_EVENT_OF_ACTION = {
    PlanAction.APPROVE: "plan.approved",
    PlanAction.START: "plan.started",
    PlanAction.MEASURED: "plan.executed",
    PlanAction.SHUTDOWN_FAILED: "plan.failed",
    PlanAction.FAIL: "plan.failed",
    PlanAction.RECOVERY_DUE: "plan.recovering",
    PlanAction.RECOVERED: "plan.recovered",
    PlanAction.RESCHEDULE: "plan.rescheduled",
    PlanAction.CANCEL: "plan.cancelled",
}
# What a transition may write besides the status and phase.
_CHANGEABLE = frozenset(
    {
        "approved_by",
        "approved_at",
        "scheduled_at",
        "recovery_at",
        "started_at",
        "executed_at",
        "power_before_mw",
        "power_after_mw",
        "power_reduced_mw",
        "failure_reason",
        "recovery_started_at",
        "recovered_at",
    }
)


class PlanNotFound(LookupError):
    pass


@dataclass(frozen=True)
class NewPlan:
    site_id: int
    plan_type: str
    target_reduction_mw: Decimal
    miners: Sequence[ChosenMiner]
    scheduled_at: datetime | None = None
    recovery_at: datetime | None = None
    hold_minutes: int | None = None
    miner_model: str | None = None
    note: str = ""
    idempotency_key: str | None = None


def event_type(before: PlanState, action: PlanAction) -> str:
    if action is PlanAction.CANCEL and before.status is PlanStatus.EXECUTED:
        return "plan.ended_early"
    return _EVENT_OF_ACTION[action]


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(redacted(value))


async def _announce(
    connection: asyncpg.Connection,
    topics: Topics,
    plan: asyncpg.Record,
    kind: str,
    actor: Actor,
    details: Mapping[str, Any],
) -> None:
    occurred_at = await connection.fetchval(
        queries.INSERT_EVENT,
        plan["plan_id"],
        kind,
        plan["status"],
        plan["phase"],
        actor.name,
        actor.user_id,
        _json(details),
    )
    event = PlanEvent(
        event_type=kind,
        plan_id=plan["plan_id"],
        site_id=plan["site_id"],
        plan_type=plan["plan_type"],
        status=plan["status"],
        phase=plan["phase"],
        actor=actor.name,
        actor_user_id=actor.user_id,
        occurred_at=occurred_at,
        details=redacted(details) or {},
    )
    await add_to_outbox(connection, [outbox_message(topics.curtailment_plans, event, event.kafka_key)])


async def create_plan(
    connection: asyncpg.Connection, topics: Topics, plan: NewPlan, actor: Actor
) -> tuple[asyncpg.Record, bool]:
    """The plan and whether it was made now (False: its idempotency key, or for an automatic plan its site,
    model and time, named a plan made before, which is returned unchanged)."""
    if not connection.is_in_transaction():
        raise RuntimeError("a plan is created in a transaction with its miners, timeline and audit")
    row = await connection.fetchrow(
        queries.INSERT_PLAN,
        plan.site_id,
        plan.plan_type,
        plan.miner_model,
        plan.target_reduction_mw,
        plan.hold_minutes,
        plan.scheduled_at,
        plan.recovery_at,
        plan.note,
        len(plan.miners),
        actor.user_id,
        actor.name,
        plan.idempotency_key,
    )
    if row is None:
        if plan.idempotency_key is not None:
            existing = await connection.fetchrow(queries.PLAN_BY_IDEMPOTENCY_KEY, plan.idempotency_key)
        else:
            existing = await connection.fetchrow(
                queries.AUTOMATIC_PLAN, plan.site_id, plan.miner_model, plan.scheduled_at
            )
        if existing is None:
            raise RuntimeError("a plan conflicted with one that cannot be found")
        return existing, False
    chosen = [miner.candidate for miner in plan.miners]
    await connection.execute(
        queries.INSERT_PLAN_MINERS,
        row["plan_id"],
        [c.miner_id for c in chosen],
        [miner.shutdown_order for miner in plan.miners],
        [c.drawing_w for c in chosen],
        [c.efficiency_j_per_th for c in chosen],
        [None if c.temperature_c is None else float(c.temperature_c) for c in chosen],
    )
    details = {"miners": [c.serial for c in chosen], "target_reduction_mw": plan.target_reduction_mw}
    await _announce(connection, topics, row, "plan.created", actor, details)
    after = {key: row[key] for key in ("site_id", "plan_type", "target_reduction_mw", "status", "phase")}
    await record_audit(
        connection, topics, actor, "plan.create", TARGET, str(row["plan_id"]), None, after | details
    )
    assert state_of(row["status"], row["phase"]) == NEW
    return row, True


async def transition(
    connection: asyncpg.Connection,
    topics: Topics,
    plan_id: int,
    action: PlanAction,
    actor: Actor,
    changes: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
) -> asyncpg.Record:
    """Apply `action` to the plan (IllegalTransition if its state does not allow it; PlanNotFound)."""
    if not connection.is_in_transaction():
        raise RuntimeError("a transition is written in one transaction with its timeline, event and audit")
    plan = await connection.fetchrow(queries.LOCK_PLAN, plan_id)
    if plan is None:
        raise PlanNotFound(plan_id)
    before = state_of(plan["status"], plan["phase"])
    after = advance(before, action)
    values = dict(changes or {})
    unknown = set(values) - _CHANGEABLE
    if unknown:
        raise ValueError(f"a transition does not write {sorted(unknown)}")
    now = datetime.now(UTC)
    if after.phase is PlanPhase.RECOVERING and before.phase is not PlanPhase.RECOVERING:
        values.setdefault("recovery_started_at", now)
    if action is PlanAction.RECOVERED:
        values.setdefault("recovered_at", now)
    names = sorted(values)
    assignments = "".join(f", {name} = ${index}" for index, name in enumerate(names, start=4))
    updated = await connection.fetchrow(
        f"UPDATE curtailment_plans SET status = $2, phase = $3, updated_at = now(){assignments}"
        f" WHERE plan_id = $1 RETURNING {queries.PLAN_COLUMNS}",
        plan_id,
        after.status.value,
        after.phase.value,
        *(values[name] for name in names),
    )
    kind = event_type(before, action)
    await _announce(connection, topics, updated, kind, actor, dict(details or {}))
    audit_before = {"status": plan["status"], "phase": plan["phase"]} | {name: plan[name] for name in names}
    audit_after = {"status": updated["status"], "phase": updated["phase"]} | values | dict(details or {})
    await record_audit(
        connection, topics, actor, f"plan.{action.value}", TARGET, str(plan_id), audit_before, audit_after
    )
    return updated
