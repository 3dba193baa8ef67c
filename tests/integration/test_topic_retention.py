"""The settlement-period topic is the replayable record: a period published long before Kafka's default
retention is replayed from the topic alone, while the same messages on a topic with the default policy are
deleted.

A Kafka of the test's own (its broker looks for expired segments every few seconds) next to the session's
PostgreSQL and DynamoDB Local. A day is ingested from the synthetic Elexon server, then its events are
published again, stamped 2024-04-01 as if they had been published then, to the compacted settlement-period
topic (`ensure_topics`, TOPIC_POLICIES) and to a topic made the way the settlement periods once were (the
broker's default `delete` policy, 7 days). Once retention has emptied the latter, the reconciler repairs the
day into an empty database with Elexon out of reach: every period comes from the compacted topic.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import UnknownTopicOrPartitionError
from test_reconcile_support import (  # type: ignore[import-not-found]
    eventually,
    load_reference_data,
    reconcile_settings,
)
from windhash_common.topics import FOREVER, Topics, ensure_topics, topic_configs
from windhash_elexon_sim import ElexonSimServer
from windhash_ingestor.backfill import ingest_range
from windhash_reconciler.period_events import PeriodKey
from windhash_reconciler.refetch import FetchOutcome, FetchPolicy
from windhash_reconciler.repair import RepairScope, repair
from windhash_stack import LocalStack, Server
from windhash_testing.dedicated_stack import dedicated_stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

DAY = date(2024, 3, 30)
PUBLISHED_AT = datetime(2024, 4, 1, tzinfo=UTC)


class ElexonGone:
    """A refetcher that fails the test: the repair must need no period from Elexon."""

    async def refetch(
        self, keys: Sequence[PeriodKey], policy: FetchPolicy, on_outcome: object = None
    ) -> Sequence[FetchOutcome]:
        raise AssertionError(f"{len(keys)} periods were fetched from Elexon again: {list(keys)[:5]}")


@pytest.fixture(scope="module")
async def kafka_of_our_own() -> AsyncIterator[LocalStack]:
    async with dedicated_stack("retention", servers=[Server.KAFKA]) as stack:
        yield stack


async def read_all(bootstrap: str, topic: str) -> list[tuple[bytes, bytes]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(3)]
        consumer.assign(partitions)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        found: list[tuple[bytes, bytes]] = []
        while len(found) < sum(ends.values()):
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                found += [(record.key, record.value) for record in records]
        return found
    finally:
        await consumer.stop()


async def retained(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(3)]
        starts, ends = await consumer.beginning_offsets(partitions), await consumer.end_offsets(partitions)
        return sum(ends[tp] - starts[tp] for tp in partitions)
    finally:
        await consumer.stop()


async def test_a_period_older_than_the_default_retention_is_replayed_from_the_compacted_topic(
    kafka_of_our_own: LocalStack, service_env: dict[str, str], pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bootstrap = kafka_of_our_own.endpoints.kafka_bootstrap
    monkeypatch.setenv("WINDHASH_KAFKA_BOOTSTRAP", bootstrap)
    topics, staging = (
        Topics(service_env["WINDHASH_TOPIC_PREFIX"]),
        Topics("staging-" + service_env["WINDHASH_TOPIC_PREFIX"]),
    )
    await ensure_topics(bootstrap, topics, 3)
    await ensure_topics(bootstrap, staging, 3)
    as_before = f"{topics.prefix}.default-retention"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(as_before, 3, 1)])
        configs = await settled_configs(admin, [topics.settlement_periods, as_before])
    finally:
        await admin.close()
    assert configs[topics.settlement_periods]["cleanup.policy"] == "compact"
    assert configs[topics.settlement_periods]["retention.ms"] == str(FOREVER)
    assert (configs[as_before]["cleanup.policy"], configs[as_before]["retention.ms"]) == (
        "delete",
        "604800000",
    )

    with ElexonSimServer() as sim:
        settings = reconcile_settings(sim)
        await load_reference_data(settings)
        staged = settings.ingestor.model_copy(update={"topic_prefix": staging.prefix})
        report = await ingest_range(staged, DAY, DAY)
        assert not report.failures
    events = await read_all(bootstrap, staging.settlement_periods)
    assert len(events) == 48

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        stamp = int(PUBLISHED_AT.timestamp() * 1000)
        for key, value in events:
            for topic in (topics.settlement_periods, as_before):
                await producer.send(topic, value, key=key, timestamp_ms=stamp)
        await producer.flush()
    finally:
        await producer.stop()

    # Kafka's default policy would have lost the day by now: its segments are older than 7 days.
    await eventually(lambda: _emptied(bootstrap, as_before), "retention to delete the old messages", 180)
    assert await retained(bootstrap, topics.settlement_periods) == 48

    repaired = await repair(settings.reconciler, RepairScope(DAY, DAY), ElexonGone())
    assert repaired is not None
    assert repaired.refetched == [] and len(repaired.replayed) == 48
    assert repaired.after.completeness_ratio == 1.0
    connection = await asyncpg.connect(pg_dsn)
    try:
        assert (
            await connection.fetchval(
                "SELECT count(*) FROM settlement_periods WHERE settlement_date = $1", DAY
            )
            == 48
        )
        assert await connection.fetchval("SELECT count(*) FROM bitcoin_calculations") > 0
    finally:
        await connection.close()


async def settled_configs(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    """The topics' configurations once every broker knows the topics (metadata spreads in milliseconds)."""
    for _ in range(50):
        with contextlib.suppress(UnknownTopicOrPartitionError):
            return await topic_configs(admin, names)
        await asyncio.sleep(0.1)
    raise AssertionError(f"the brokers never described {names}")


async def _emptied(bootstrap: str, topic: str) -> bool:
    return await retained(bootstrap, topic) == 0
