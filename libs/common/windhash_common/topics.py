"""Kafka topics: their names, and creating them. docs/ARCHITECTURE.md says what flows on each, its key and
why."""

import contextlib
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError


@dataclass(frozen=True)
class Topics:
    prefix: str = "windhash"

    @property
    def settlement_periods(self) -> str:
        """One `SettlementPeriodEvent` per (date, period), keyed `YYYY-MM-DD/PP`."""
        return f"{self.prefix}.settlement-periods.v1"

    @property
    def period_calculated(self) -> str:
        """One `PeriodCalculatedEvent` each time the calculator applies a period, keyed by settlement date."""
        return f"{self.prefix}.period-calculated.v1"

    @property
    def dead_letter(self) -> str:
        """`DeadLetter` records: anything a service could not accept, with the reason and the raw payload."""
        return f"{self.prefix}.dead-letter.v1"

    @property
    def market_snapshots(self) -> str:
        """One `MarketSnapshotEvent` (events_market.py) per 15-minute slot, keyed by the slot's time."""
        return f"{self.prefix}.market-snapshots.v1"

    @property
    def miner_telemetry(self) -> str:
        """One `MinerTelemetryEvent` per poll of a miner (events_fleet.py), keyed by the miner's serial."""
        return f"{self.prefix}.miner-telemetry.v1"

    @property
    def miner_status(self) -> str:
        """`MinerStatusChangedEvent` (miner.offline / miner.online) through the outbox, keyed by serial."""
        return f"{self.prefix}.miner-status.v1"

    @property
    def fleet_changes(self) -> str:
        """`FleetChangedEvent` (miner/site/model created, updated, moved, retired) through the outbox, keyed
        `<kind>/<serial or name>`."""
        return f"{self.prefix}.fleet-changes.v1"

    @property
    def curtailment_plans(self) -> str:
        """`PlanEvent` (events_plans.py): every transition of a curtailment plan through the outbox, keyed
        `plan/<id>`."""
        return f"{self.prefix}.curtailment-plans.v1"

    @property
    def audit(self) -> str:
        """`AuditEvent` (events_audit.py): every recorded state change, keyed `<target_type>/<target_id>`."""
        return f"{self.prefix}.audit.v1"

    @property
    def crm(self) -> str:
        """CRM events (events_crm.py) through the outbox: a lead converted, a deal won or lost, an invoice
        sent, paid or overdue, an activity's reminder; keyed `deal/<id>` (a sale's events stay in order) or
        `activity/<id>`."""
        return f"{self.prefix}.crm.v1"

    def all(self) -> tuple[str, ...]:
        return (
            self.settlement_periods,
            self.period_calculated,
            self.dead_letter,
            self.market_snapshots,
            self.miner_telemetry,
            self.miner_status,
            self.fleet_changes,
            self.audit,
            self.crm,
            self.curtailment_plans,
        )


async def ensure_topics(bootstrap: str, topics: Topics, partitions: int) -> None:
    """Create whichever of the topics is missing: idempotent, so every service can call it at start-up."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name=name, num_partitions=partitions, replication_factor=1)
            for name in topics.all()
            if name not in existing
        ]
        if missing:
            # Another service may create a topic between our list and our create.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    finally:
        await admin.close()
