"""The executor's consumer, on the shared consumer runtime: plan events and the fleet's miner-status events
become the commands the executor will send.

    curtailment-plans.v1  plan.approved              → the plan's sleeps (from its scheduled time)
                          any event in recovering    → its wake-ups (from now, in reverse order)
    miner-status.v1       miner.online, `active`     → a new sleep for a plan still holding that miner
                                                       (docs/FLEET.md: the executor owns `curtailed`)

Exactly once: the runtime calls `CommandPlanner` in the transaction that locks and advances the group's
stored positions, and planning is idempotent besides (`command_planning`), so a redelivered event plans
nothing twice.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import asyncpg
from windhash_common.consumer_runtime.messages import Batch, ConsumedMessage, decode_json_model
from windhash_common.consumer_runtime.unit_of_work import PostgresUnitOfWork, UnitOfWork
from windhash_common.dead_letters import Rejection
from windhash_common.events_fleet import MinerStatusChangedEvent
from windhash_common.events_plans import PlanEvent
from windhash_common.topics import Topics

from windhash_plans import command_planning

SERVICE = "plans-executor"
MAX_MESSAGE_BYTES = 65_536
Clock = Callable[[], datetime]
ConsumedEvent = PlanEvent | MinerStatusChangedEvent


class CommandPlans(Protocol):
    async def plan_sleeps(self, plan_id: int, stagger: timedelta, now: datetime) -> int: ...

    async def plan_wakeups(self, plan_id: int, stagger: timedelta, now: datetime) -> int: ...

    async def plan_resleep(self, serial: str, now: datetime) -> int: ...


class PlannerUnitOfWork(UnitOfWork, Protocol):
    @property
    def commands(self) -> CommandPlans: ...


class PostgresCommandPlans:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def plan_sleeps(self, plan_id: int, stagger: timedelta, now: datetime) -> int:
        return await command_planning.plan_sleeps(self._connection, plan_id, stagger, now)

    async def plan_wakeups(self, plan_id: int, stagger: timedelta, now: datetime) -> int:
        return await command_planning.plan_wakeups(self._connection, plan_id, stagger, now)

    async def plan_resleep(self, serial: str, now: datetime) -> int:
        return await command_planning.plan_resleep(self._connection, serial, now)


class PostgresPlannerUnitOfWork(PostgresUnitOfWork):
    commands: CommandPlans

    def _repositories(self) -> None:
        self.commands = PostgresCommandPlans(self.connection)


def _now() -> datetime:
    return datetime.now(UTC)


def decoder(topics: Topics) -> Callable[[ConsumedMessage], object]:
    def decode(message: ConsumedMessage) -> object:
        if message.topic == topics.curtailment_plans:
            return decode_json_model(PlanEvent, message.value, MAX_MESSAGE_BYTES)
        if message.topic == topics.miner_status:
            return decode_json_model(MinerStatusChangedEvent, message.value, MAX_MESSAGE_BYTES)
        return Rejection("unexpected_topic", f"the plans executor does not read {message.topic}")

    return decode


@dataclass
class CommandPlanner:
    """The handler: returns how many commands it planned (the runner is woken when any were)."""

    stagger: timedelta
    clock: Clock = _now

    async def __call__(self, batch: Batch[ConsumedEvent], uow: PlannerUnitOfWork) -> int:
        now = self.clock()
        planned = 0
        for positioned in batch.events:
            event = positioned.event
            if isinstance(event, PlanEvent):
                if event.event_type == "plan.approved":
                    planned += await uow.commands.plan_sleeps(event.plan_id, self.stagger, now)
                if event.phase == "recovering":
                    planned += await uow.commands.plan_wakeups(event.plan_id, self.stagger, now)
            elif event.event_type == "miner.online" and event.status_after == "active":
                planned += await uow.commands.plan_resleep(event.miner_serial, now)
        return planned
