"""Kafka topics as data: their names, how long each keeps what, and creating or correcting them.

docs/ARCHITECTURE.md says what flows on each topic, its key and why. `TOPIC_POLICIES` says how each is kept
(cleanup policy and retention, documented per topic in ARCHITECTURE's topic table); `ensure_topics` creates
the missing topics with it and brings the configuration of existing ones to it, so a deployment whose topics
were made under an older policy (the settlement periods once sat on Kafka's default 7-day retention) is
corrected at the next start of any service. Partitions, the replication factor and `min.insync.replicas` are
settings (`WINDHASH_TOPIC_PARTITIONS`, `_REPLICATION_FACTOR`, `_MIN_INSYNC_REPLICAS`).
"""

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, for_code

from windhash_common.kafka_connection import KafkaTarget, as_connection

log = structlog.get_logger(__name__)

DAY_MS = 24 * 3600 * 1000
FOREVER = -1


@dataclass(frozen=True)
class TopicPolicy:
    """How a topic is kept. `compact` keeps the latest message of every key for ever; `delete` drops whole
    segments older than `retention_ms` (or beyond `retention_bytes` per partition, when set)."""

    cleanup_policy: Literal["compact", "delete"]
    retention_ms: int
    why: str
    retention_bytes: int = FOREVER
    extra: Mapping[str, str] = field(default_factory=dict)

    def configs(self, min_insync_replicas: int) -> dict[str, str]:
        return {
            "cleanup.policy": self.cleanup_policy,
            "retention.ms": str(self.retention_ms),
            "retention.bytes": str(self.retention_bytes),
            "min.insync.replicas": str(min_insync_replicas),
            **self.extra,
        }


# Keyed by the `Topics` property that names the topic; tests/unit/test_topics.py checks every topic has one.
TOPIC_POLICIES: Mapping[str, TopicPolicy] = {
    "settlement_periods": TopicPolicy(
        "compact",
        FOREVER,
        "The replayable record of every period: compaction keeps the latest snapshot of each `YYYY-MM-DD/PP` "
        "for ever, so reconciliation replays any period from the topic, never from Elexon again.",
        # Compact soon after a revision, but never the newest hour (a consumer may still be reading it).
        extra={"min.compaction.lag.ms": str(3600 * 1000), "min.cleanable.dirty.ratio": "0.1"},
    ),
    "period_calculated": TopicPolicy(
        "delete",
        7 * DAY_MS,
        "Notifications that a period's facts changed: the aggregator needs each only until applied; "
        "summaries "
        "are recomputed from PostgreSQL's facts, never from this topic.",
    ),
    "dead_letter": TopicPolicy(
        "delete",
        90 * DAY_MS,
        "Quarantined input with its reason: kept a quarter for operators and `windhash reconcile analyze`.",
    ),
    "market_snapshots": TopicPolicy(
        "delete",
        30 * DAY_MS,
        "15-minute market snapshots for consumers; the history is PostgreSQL's (market_analytics).",
    ),
    "miner_telemetry": TopicPolicy(
        "delete",
        3 * DAY_MS,
        "The biggest stream (a reading per miner per minute): consumers keep up within minutes; three days "
        "rides out a long outage of the telemetry writer. Bounded in bytes too.",
        retention_bytes=8 * 1024**3,
    ),
    "miner_status": TopicPolicy(
        "compact",
        FOREVER,
        "miner.offline / miner.online keyed by serial: compaction keeps each miner's latest status for "
        "a new consumer to start from.",
    ),
    "fleet_changes": TopicPolicy(
        "delete",
        400 * DAY_MS,
        "Miners, sites and models created, edited, moved or retired (before, after, who), for consumers such "
        "as plans and the CRM: a year and a month; hosting_miners and its operation log are the record.",
    ),
    "curtailment_plans": TopicPolicy(
        "delete",
        30 * DAY_MS,
        "Every transition of a curtailment plan for the executor, which acts within minutes; the plan tables "
        "and their timeline are the record.",
    ),
    "crm": TopicPolicy(
        "delete",
        400 * DAY_MS,
        "Sales events (a deal won, an invoice paid or overdue, a reminder) for their consumers: a year and a "
        "month; the CRM's tables are the record.",
    ),
    "audit": TopicPolicy(
        "delete",
        400 * DAY_MS,
        "Every recorded state change, for audit consumers: a year and a month (the audit_log table is the "
        "record of authority).",
    ),
}


@dataclass(frozen=True)
class TopicLayout:
    """Partitions and replication of every topic (settings `WINDHASH_TOPIC_*`)."""

    partitions: int = 6
    replication_factor: int = 1
    min_insync_replicas: int = 1


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

    def policies(self) -> dict[str, TopicPolicy]:
        """Every topic's name → its policy."""
        return {getattr(self, attribute): policy for attribute, policy in TOPIC_POLICIES.items()}

    def all(self) -> tuple[str, ...]:
        return tuple(self.policies())


async def ensure_topics(
    kafka: KafkaTarget,
    topics: Topics,
    partitions: int | TopicLayout,
) -> None:
    """Create whichever topic is missing and bring every topic's configuration to its policy: idempotent,
    so every service can call it at start-up. A topic with another partition count keeps it (repartitioning
    would move keys between partitions and break their order): that is logged, not changed."""
    layout = partitions if isinstance(partitions, TopicLayout) else TopicLayout(partitions)
    policies = topics.policies()
    admin = AIOKafkaAdminClient(**as_connection(kafka).client_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name=name,
                num_partitions=layout.partitions,
                replication_factor=layout.replication_factor,
                topic_configs=policy.configs(layout.min_insync_replicas),
            )
            for name, policy in policies.items()
            if name not in existing
        ]
        if missing:
            # Another service may create a topic between our list and our create.
            with contextlib.suppress(TopicAlreadyExistsError):
                _raise_errors(await admin.create_topics(missing), "topic_errors")
        present = [name for name in policies if name in existing]
        if present:
            await _correct_configs(admin, {name: policies[name] for name in present}, layout)
    finally:
        await admin.close()


async def topic_configs(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    """The current configuration of each topic, as the brokers report it."""
    found: dict[str, dict[str, str]] = {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    for response in await admin.describe_configs(resources):
        for error_code, _message, _type, name, entries in response.resources:
            _raise_code(error_code, f"describe the configuration of {name}")
            found[name] = {entry[0]: entry[1] for entry in entries}
    return found


async def _correct_configs(
    admin: AIOKafkaAdminClient, policies: Mapping[str, TopicPolicy], layout: TopicLayout
) -> None:
    current = await topic_configs(admin, list(policies))
    stale = []
    for name, policy in policies.items():
        wanted = policy.configs(layout.min_insync_replicas)
        if any(current.get(name, {}).get(key) != value for key, value in wanted.items()):
            stale.append(ConfigResource(ConfigResourceType.TOPIC, name, configs=wanted))
    if not stale:
        return
    # AlterConfigs sets a topic's whole dynamic configuration: exactly its policy, nothing left over.
    for response in await admin.alter_configs(stale):
        _raise_errors(response, "resources")
    log.info("topic configuration corrected", topics=sorted(resource.name for resource in stale))


def _raise_errors(response: object, attribute: str) -> None:
    for entry in getattr(response, attribute, []):
        name, error_code = (entry[0], entry[1]) if isinstance(entry[0], str) else (entry[3], entry[0])
        _raise_code(error_code, f"topic {name}")


def _raise_code(error_code: int, what: str) -> None:
    if error_code:
        error = for_code(error_code)
        raise error(what)
