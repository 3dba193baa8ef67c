"""Planning a plan's commands (in the caller's transaction): its sleeps when it is approved, its wake-ups when
it begins its recovery, and a new sleep for a miner that came back awake while its plan still holds it.

Each is idempotent: a plan's commands are planned once (`sleeps_planned_at`, `wakeups_planned_at`) and a
command's natural key (plan, miner, command, round) never takes a second row, so an event delivered twice
plans nothing twice. The schedules themselves are `domain.command_schedule`'s.
"""

from datetime import datetime, timedelta

import asyncpg

from windhash_plans.domain.command_schedule import ScheduledCommand, recovery_schedule, shutdown_schedule
from windhash_plans.domain.plan_states import PlanPhase, PlanStatus
from windhash_plans.queries import plans as plan_queries
from windhash_plans.queries import steps as queries


async def _insert(
    connection: asyncpg.Connection, plan_id: int, commands: list[ScheduledCommand], round_: int
) -> int:
    await connection.execute(
        queries.INSERT_STEPS,
        plan_id,
        [command.miner_id for command in commands],
        [command.command for command in commands],
        [round_] * len(commands),
        [command.sequence for command in commands],
        [command.due_at for command in commands],
    )
    return len(commands)


async def plan_sleeps(connection: asyncpg.Connection, plan_id: int, stagger: timedelta, now: datetime) -> int:
    """The sleeps of an approved plan, from its scheduled time; nothing if it is no longer approved."""
    plan = await connection.fetchrow(plan_queries.LOCK_PLAN, plan_id)
    if plan is None or plan["sleeps_planned_at"] is not None or plan["status"] != PlanStatus.APPROVED:
        return 0
    miners = [row["miner_id"] for row in await connection.fetch(plan_queries.PLAN_MINER_IDS, plan_id)]
    planned = await _insert(connection, plan_id, shutdown_schedule(miners, plan["scheduled_at"], stagger), 1)
    await connection.execute(queries.MARK_SLEEPS_PLANNED, plan_id, now)
    return planned


async def plan_wakeups(
    connection: asyncpg.Connection, plan_id: int, stagger: timedelta, now: datetime
) -> int:
    """The wake-ups of a recovering plan, from now, for every miner a sleep went (or may have gone) to; the
    sleeps not yet sent are skipped."""
    plan = await connection.fetchrow(plan_queries.LOCK_PLAN, plan_id)
    if plan is None or plan["wakeups_planned_at"] is not None or plan["phase"] != PlanPhase.RECOVERING:
        return 0
    await connection.execute(queries.SKIP_PENDING_SLEEPS, plan_id, now)
    miners = [row["miner_id"] for row in await connection.fetch(queries.MINERS_TO_WAKE, plan_id)]
    planned = await _insert(connection, plan_id, recovery_schedule(miners, now, stagger), 1)
    await connection.execute(queries.MARK_WAKEUPS_PLANNED, plan_id, now)
    return planned


async def plan_resleep(connection: asyncpg.Connection, serial: str, now: datetime) -> int:
    """A miner came back awake (it rebooted): every plan still holding it puts it back to sleep, now."""
    planned = 0
    for row in await connection.fetch(queries.HOLDING_PLANS_OF_MINER, serial):
        miner_id = await connection.fetchval(queries.MINER_ID, serial)
        command = ScheduledCommand(miner_id, "sleep", row["shutdown_order"], now)
        planned += await _insert(connection, row["plan_id"], [command], row["last_round"] + 1)
    return planned
