"""The executor: sends the planned commands when they are due, measures each shutdown, and moves plans on
when their time comes. One runner at a time (lease `plans/executor`), every `WINDHASH_PLANS_TICK_S` or when
woken (a consumed plan event planned commands).

Crash-safe by construction (docs/PLANS.md, "Crash safety"):
- a command is recorded `sending` and committed before it goes; `done` (or a retry) is committed after. A
  worker killed in between leaves it `sending`; the next runner sends it again only if the miner is not
  already in the wanted state (`miner_control.bring_to` reads it first), so no miner gets a command twice;
- time is in the database: a plan whose recovery time passed while no executor ran is recovered at once by
  the next one, and overdue commands go out one stagger apart, never in a burst;
- every transition is `plan_store.transition`, in the transaction that records why.
"""

import asyncio
import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import structlog
from windhash_common.audit import Actor
from windhash_common.miner_rpc import MinerEndpoint, RpcError
from windhash_common.topics import Topics

from windhash_plans import metrics
from windhash_plans.command_planning import plan_wakeups
from windhash_plans.domain.command_schedule import next_send_at
from windhash_plans.domain.plan_states import IllegalTransition, PlanAction, PlanPhase, PlanStatus, state_of
from windhash_plans.miner_control import MinerControl, bring_to
from windhash_plans.plan_store import transition
from windhash_plans.queries import plans as plan_queries
from windhash_plans.queries import steps as queries
from windhash_plans.settings import PlansSettings
from windhash_plans.shutdown_progress import ShutdownJudge

log = structlog.get_logger(__name__)
ACTOR = Actor("plans-executor")
DUE_BATCH = 500
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


_OPERATION = {"sleep": "curtail_sleep", "wakeup": "curtail_wakeup"}
# The fleet's status the executor owns (docs/FLEET.md): asleep is `curtailed`, awake again is `active`.
_STATUS_CHANGE = {"sleep": ("active", "curtailed"), "wakeup": ("curtailed", "active")}
# A sleep goes out while the plan shuts down or holds its miners (a miner back awake), a wake-up while it
# recovers; any other command is skipped.
_PHASES_FOR = {
    "sleep": (PlanPhase.SHUTTING_DOWN, PlanPhase.HOLDING),
    "wakeup": (PlanPhase.RECOVERING,),
}


class Executor:
    def __init__(
        self,
        settings: PlansSettings,
        pool: asyncpg.Pool,
        control: MinerControl,
        relay_wake: asyncio.Event,
        clock: Clock = _now,
    ) -> None:
        self.settings, self.pool, self.control, self.clock = settings, pool, control, clock
        self.topics: Topics = settings.topics
        self.relay_wake = relay_wake
        self.wake = asyncio.Event()
        self.judge = ShutdownJudge(settings, pool, self._transition)

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` (or cancelled: the lease holder cancels it when the lease is lost)."""
        metrics.EXECUTOR_HOLDS_LEASE.set(1)
        try:
            while not stop.is_set():
                await self.tick()
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=self.settings.plans_tick_s)
        finally:
            metrics.EXECUTOR_HOLDS_LEASE.set(0)

    async def tick(self) -> None:
        now = self.clock()
        await self.plans_due(now)
        await self.send_due_commands(now)
        await self.judge.measure_shutdowns(self.clock())
        await self.close_recoveries()
        await self.report(self.clock())

    async def _transition(
        self,
        plan_id: int,
        action: PlanAction,
        changes: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
        connection: asyncpg.Connection | None = None,
    ) -> asyncpg.Record | None:
        """A transition of the executor's; None when someone moved the plan first (a person cancelling it)."""
        try:
            if connection is not None:
                row = await transition(connection, self.topics, plan_id, action, ACTOR, changes, details)
            else:
                async with self.pool.acquire() as own, own.transaction():
                    row = await transition(own, self.topics, plan_id, action, ACTOR, changes, details)
        except IllegalTransition as refused:
            log.info("plan moved on meanwhile", plan_id=plan_id, refused=str(refused))
            return None
        metrics.TRANSITIONS.labels(action.value).inc()
        self.relay_wake.set()
        log.info(
            "plan transition", plan_id=plan_id, action=action.value, status=row["status"], phase=row["phase"]
        )
        return row

    async def plans_due(self, now: datetime) -> None:
        grace = now - timedelta(seconds=self.settings.plans_event_grace_s)
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(queries.PLANS_DUE, now, grace)
        for row in rows:
            state = state_of(row["status"], row["phase"])
            plan_id = row["plan_id"]
            if state.phase is PlanPhase.RECOVERING:
                # The consumer has not planned the wake-ups (Kafka away?): nobody is left asleep for that.
                async with self.pool.acquire() as connection, connection.transaction():
                    planned = await plan_wakeups(connection, plan_id, self.settings.stagger, now)
                log.warning("wake-ups planned without their event", plan_id=plan_id, commands=planned)
            elif state.status is PlanStatus.APPROVED:
                reason = "its recovery time came before it could start"
                await self._transition(
                    plan_id, PlanAction.FAIL, {"failure_reason": reason}, {"reason": reason}
                )
            elif state.status is PlanStatus.EXECUTING:
                reason = "its recovery time came before the shutdown was confirmed"
                changes = {"failure_reason": reason}
                await self._transition(plan_id, PlanAction.SHUTDOWN_FAILED, changes, {"reason": reason})
            else:
                await self._transition(plan_id, PlanAction.RECOVERY_DUE)

    async def send_due_commands(self, now: datetime) -> None:
        async with self.pool.acquire() as connection:
            due = await connection.fetch(queries.DUE_STEPS, now, DUE_BATCH)
        sent_now: dict[tuple[int, str], datetime] = {}
        for step in due:
            key = (step["plan_id"], step["command"])
            last = max(filter(None, (step["last_sent_at"], sent_now.get(key))), default=None)
            if next_send_at(step["due_at"], last, self.settings.stagger) > self.clock():
                continue
            if await self.execute(step):
                sent_now[key] = self.clock()

    async def execute(self, step: asyncpg.Record) -> bool:
        """One command: claimed, sent (if the miner is not so already), recorded. True when it was tried."""
        claimed = await self._claim(step)
        if claimed is None:
            return False
        attempts, performed_by = claimed
        command = step["command"]
        endpoint = MinerEndpoint(step["api_host"], step["api_port"])
        started = asyncio.get_running_loop().time()
        try:
            outcome = await bring_to(self.control, endpoint, command)
        except RpcError as error:
            await self._failed_try(step, attempts, performed_by, error)
            return True
        finally:
            metrics.COMMAND_SECONDS.observe(asyncio.get_running_loop().time() - started)
        await self._done(step, attempts, performed_by, outcome)
        metrics.COMMANDS.labels(command, outcome).inc()
        return True

    async def _claim(self, step: asyncpg.Record) -> tuple[int, Any] | None:
        """Record the command as going out (committed before it goes); None when it must not go."""
        now, command = self.clock(), step["command"]
        async with self.pool.acquire() as connection, connection.transaction():
            plan = await connection.fetchrow(plan_queries.LOCK_PLAN, step["plan_id"])
            current = await connection.fetchrow(queries.LOCK_STEP, step["step_id"])
            if plan is None or current is None or current["state"] not in ("pending", "sending"):
                return None
            state = state_of(plan["status"], plan["phase"])
            if command == "sleep" and state.status is PlanStatus.APPROVED:
                changes = {"started_at": now}
                plan = await self._transition(
                    plan["plan_id"], PlanAction.START, changes, connection=connection
                )
                if plan is None:
                    return None
                state = state_of(plan["status"], plan["phase"])
            if state.phase not in _PHASES_FOR[command]:
                await connection.execute(queries.SKIP_STEP, step["step_id"], now, f"the plan is {state}")
                metrics.COMMANDS.labels(command, "skipped").inc()
                return None
            attempts = await connection.fetchval(queries.CLAIM_STEP, step["step_id"], now)
            return int(attempts), plan["approved_by"]

    async def _done(self, step: asyncpg.Record, attempts: int, performed_by: Any, outcome: str) -> None:
        now = self.clock()
        command = step["command"]
        async with self.pool.acquire() as connection, connection.transaction():
            if (
                await connection.fetchval(
                    queries.FINISH_STEP, step["step_id"], "done", now, outcome == "already", None
                )
                is None
            ):
                return
            before, after = _STATUS_CHANGE[command]
            await connection.execute(queries.MARK_MINER, step["miner_id"], before, after)
            details = _details(step, attempts, "done" if outcome == "sent" else "already_so")
            await self._log(connection, step, performed_by, details)

    async def _failed_try(
        self, step: asyncpg.Record, attempts: int, performed_by: Any, error: RpcError
    ) -> None:
        now, command = self.clock(), step["command"]
        limit = (
            self.settings.plans_sleep_attempts if command == "sleep" else self.settings.plans_wakeup_attempts
        )
        final = attempts >= limit
        async with self.pool.acquire() as connection, connection.transaction():
            if final:
                await connection.execute(
                    queries.FINISH_STEP, step["step_id"], "failed", now, False, str(error)[:1000]
                )
            else:
                backoff = min(
                    self.settings.plans_retry_backoff_s * 2 ** (attempts - 1),
                    self.settings.plans_retry_backoff_max_s,
                )
                await connection.execute(
                    queries.RETRY_STEP, step["step_id"], now + timedelta(seconds=backoff), str(error)[:1000]
                )
            details = _details(step, attempts, "failed" if final else "retry") | {"error": str(error)[:300]}
            await self._log(connection, step, performed_by, details)
        metrics.COMMANDS.labels(command, "failed" if final else "retry").inc()
        if final and command == "wakeup":
            metrics.WAKEUPS_FAILED.inc()
        log.warning(
            "command failed",
            serial=step["serial_number"],
            command=command,
            attempt=attempts,
            error=str(error),
        )

    async def _log(
        self, connection: asyncpg.Connection, step: asyncpg.Record, performed_by: Any, details: dict[str, Any]
    ) -> None:
        await connection.execute(
            queries.LOG_OPERATION,
            step["miner_id"],
            _OPERATION[step["command"]],
            performed_by,
            ACTOR.name,
            json.dumps(details),
        )

    async def close_recoveries(self) -> None:
        async with self.pool.acquire() as connection:
            settled = await connection.fetch(queries.PLANS_SETTLED, PlanPhase.RECOVERING.value)
        for plan in settled:
            if plan["wakeups_planned_at"] is None:
                continue
            async with self.pool.acquire() as connection:
                failures = await connection.fetch(queries.WAKEUP_FAILURES, plan["plan_id"])
            details = (
                {"not_woken": {row["serial_number"]: row["last_error"] for row in failures}}
                if failures
                else {}
            )
            await self._transition(plan["plan_id"], PlanAction.RECOVERED, details=details)

    async def report(self, now: datetime) -> None:
        async with self.pool.acquire() as connection:
            overdue = await connection.fetchval(queries.MOST_OVERDUE, now)
            stranded = await connection.fetchval(queries.MINERS_PAST_RECOVERY, now - timedelta(minutes=1))
        metrics.STEPS_OVERDUE_SECONDS.set(overdue or 0)
        metrics.MINERS_PAST_RECOVERY.set(stranded or 0)


def _details(step: asyncpg.Record, attempt: int, outcome: str) -> dict[str, Any]:
    return {
        "plan_id": step["plan_id"],
        "step_id": step["step_id"],
        "round": step["round"],
        "attempt": attempt,
        "outcome": outcome,
    }
