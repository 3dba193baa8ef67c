"""The executor's consumer: which events plan which commands (against a fake repository)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from windhash_common.consumer_runtime.messages import Batch, ConsumedMessage, Positioned
from windhash_common.dead_letters import Rejection
from windhash_common.events_fleet import MinerStatusChangedEvent
from windhash_common.events_plans import PlanEvent
from windhash_common.topics import Topics
from windhash_plans.command_consumer import CommandPlanner, ConsumedEvent, decoder

NOW = datetime(2024, 3, 1, 12, tzinfo=UTC)
STAGGER = timedelta(seconds=5)


@dataclass
class FakeCommands:
    calls: list[tuple[str, object]] = field(default_factory=list)

    async def plan_sleeps(self, plan_id: int, stagger: timedelta, now: datetime) -> int:
        self.calls.append(("sleeps", plan_id))
        return 3

    async def plan_wakeups(self, plan_id: int, stagger: timedelta, now: datetime) -> int:
        self.calls.append(("wakeups", plan_id))
        return 3

    async def plan_resleep(self, serial: str, now: datetime) -> int:
        self.calls.append(("resleep", serial))
        return 1


@dataclass
class FakeUnitOfWork:
    commands: FakeCommands = field(default_factory=FakeCommands)
    positions: object = None
    outbox: object = None


def plan_event(kind: str, status: str, phase: str, plan_id: int = 7) -> PlanEvent:
    return PlanEvent(
        event_type=kind,
        plan_id=plan_id,
        site_id=1,
        plan_type="manual",
        status=status,
        phase=phase,
        actor="test",
        occurred_at=NOW,
    )


def status_event(after: str) -> MinerStatusChangedEvent:
    return MinerStatusChangedEvent(
        event_type="miner.online",
        miner_serial="SIM-1",
        site_id=1,
        status_before="offline",
        status_after=after,
        reason="answered",
        consecutive_failures=0,
        actor="fleet-collector/shard-0",
        changed_at=NOW,
    )


def batch(*events: ConsumedEvent) -> Batch[ConsumedEvent]:
    message = ConsumedMessage("t", 0, 0, b"k", b"{}")
    return Batch(tuple(Positioned(message, event) for event in events))


async def test_approval_plans_sleeps_and_any_recovering_event_plans_wakeups() -> None:
    uow = FakeUnitOfWork()
    planner = CommandPlanner(STAGGER, lambda: NOW)
    planned = await planner(
        batch(
            plan_event("plan.created", "pending", "idle"),
            plan_event("plan.approved", "approved", "idle"),
            plan_event("plan.started", "executing", "shutting_down"),
            plan_event("plan.failed", "failed", "recovering", 8),
            plan_event("plan.ended_early", "executed", "recovering", 9),
            plan_event("plan.recovered", "executed", "recovered", 9),
        ),
        uow,  # type: ignore[arg-type]
    )
    assert uow.commands.calls == [("sleeps", 7), ("wakeups", 8), ("wakeups", 9)]
    assert planned == 9


async def test_a_miner_back_awake_is_put_back_to_sleep_but_not_one_back_asleep() -> None:
    uow = FakeUnitOfWork()
    await CommandPlanner(STAGGER, lambda: NOW)(batch(status_event("active"), status_event("curtailed")), uow)  # type: ignore[arg-type]
    assert uow.commands.calls == [("resleep", "SIM-1")]


def test_messages_are_read_by_their_topic_and_others_refused() -> None:
    topics = Topics("t")
    decode = decoder(topics)
    event = plan_event("plan.approved", "approved", "idle")
    message = ConsumedMessage(
        topics.curtailment_plans, 0, 0, event.kafka_key, event.model_dump_json().encode()
    )
    assert decode(message) == event
    other = decode(ConsumedMessage("elsewhere", 0, 0, None, b"{}"))
    assert isinstance(other, Rejection) and other.kind == "unexpected_topic"
    broken = decode(ConsumedMessage(topics.miner_status, 0, 0, None, b"{}"))
    assert isinstance(broken, Rejection) and broken.kind == "schema"
