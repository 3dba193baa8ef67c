"""The aggregator as a service, through real Kafka and PostgreSQL: a published period-calculated event updates
the summaries, a revision that empties a day deletes them, a malformed message is dead-lettered with its
reason, and a restart applies nothing twice."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date
from decimal import Decimal

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import REGISTRY
from windhash_aggregator.handler import AppliedBatch
from windhash_aggregator.runner import run_aggregator
from windhash_aggregator.settings import AggregatorSettings
from windhash_common.events import DeadLetter
from windhash_testing.synthetic_facts import (
    CalculationFact,
    RecordFact,
    ensure_miner_models,
    period_calculated_event,
    write_period_facts,
)

pytestmark = pytest.mark.integration

DAY = date(2024, 10, 27)  # 50 settlement periods
MODEL = "kafka-s21"
WAIT_SECONDS = 60


def records(volumes: tuple[str, ...]) -> tuple[RecordFact, ...]:
    return tuple(
        RecordFact(
            bm_unit=f"T_KAFKA-{n}",
            acceptance_id=1000 + n,
            bid_offer_pair_id=-1,
            lead_party_name="Kafka Wind",
            volume_mwh=-Decimal(volume),
            price_gbp_per_mwh=Decimal("-50"),
            cashflow_gbp=Decimal(volume) * Decimal("50"),
            calculations=(
                CalculationFact(MODEL, Decimal(volume), Decimal(90_000_000_000_000), Decimal("0.001")),
            ),
        )
        for n, volume in enumerate(volumes)
    )


class AppliedLog:
    def __init__(self) -> None:
        self.batches: list[AppliedBatch] = []
        self.changed = asyncio.Event()

    def __call__(self, applied: AppliedBatch) -> None:
        self.batches.append(applied)
        self.changed.set()

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT_SECONDS):
            while not condition():
                self.changed.clear()
                await self.changed.wait()

    def applied_offsets(self) -> list[int]:
        return [event.offset for batch in self.batches for event in batch.applied]


@contextlib.asynccontextmanager
async def running_aggregator(settings: AggregatorSettings, log: AppliedLog) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(run_aggregator(settings, stop, log))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, WAIT_SECONDS)


@pytest.fixture
async def settings(service_env: dict[str, str], topic_prefix: str) -> AggregatorSettings:
    return AggregatorSettings(aggregator_group=f"aggregator-{topic_prefix}", metrics_port=0)


@pytest.fixture
async def producer(settings: AggregatorSettings) -> AsyncIterator[AIOKafkaProducer]:
    kafka = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await kafka.start()
    yield kafka
    await kafka.stop()


async def read_dead_letters(settings: AggregatorSettings, count: int) -> list[DeadLetter]:
    consumer = AIOKafkaConsumer(
        settings.topics.dead_letter,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=f"dead-letter-reader-{uuid.uuid4().hex}",
    )
    await consumer.start()
    letters: list[DeadLetter] = []
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            while len(letters) < count:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    letters += [DeadLetter.model_validate_json(record.value) for record in batch]
    finally:
        await consumer.stop()
    return letters


def freshness_count() -> float:
    return REGISTRY.get_sample_value("windhash_aggregator_summary_freshness_seconds_count") or 0.0


async def test_events_through_kafka_keep_summaries_equal_to_facts(
    settings: AggregatorSettings, pg_dsn: str, producer: AIOKafkaProducer
) -> None:
    topic = settings.topics.period_calculated
    connection = await asyncpg.connect(pg_dsn)
    log = AppliedLog()
    observed_before = freshness_count()
    try:
        await ensure_miner_models(connection, [MODEL])
        first = records(("10.5", "2.25"))
        await write_period_facts(connection, DAY, 50, first)

        async with running_aggregator(settings, log):
            event = period_calculated_event(DAY, 50, first)
            await producer.send_and_wait(topic, event.model_dump_json().encode(), key=event.kafka_key)
            await producer.send_and_wait(topic, b'{"not": "an event"}', key=event.kafka_key)
            await log.wait_for(lambda: len(log.applied_offsets()) == 1)

            row = await connection.fetchrow("SELECT * FROM curtailment_daily WHERE settlement_date = $1", DAY)
            assert row is not None
            assert (row["energy_mwh"], row["cashflow_gbp"], row["record_count"]) == (
                Decimal("12.75"),
                637.5,
                2,
            )
            assert await connection.fetchval(
                "SELECT btc FROM bitcoin_monthly WHERE month = '2024-10-01'"
            ) == Decimal("0.002")

            # A revision: the period now has no curtailment, so the day's summaries disappear.
            await write_period_facts(connection, DAY, 50, ())
            revision = period_calculated_event(DAY, 50, ())
            await producer.send_and_wait(topic, revision.model_dump_json().encode(), key=revision.kafka_key)
            await log.wait_for(lambda: len(log.applied_offsets()) == 2)
            for table in ("curtailment_daily", "bitcoin_daily", "bm_unit_daily", "lead_party_daily"):
                assert await connection.fetchval(f"SELECT count(*) FROM {table}") == 0
            assert await connection.fetchval("SELECT count(*) FROM curtailment_yearly") == 0

        stored = await connection.fetchval(
            "SELECT sum(next_offset) FROM consumer_positions WHERE consumer_group = $1",
            settings.aggregator_group,
        )
        assert stored == 3  # two events and the dead-lettered message, all on the date's partition
        letters = await read_dead_letters(settings, 1)
        assert letters[0].service == "aggregator"
        assert "not a valid PeriodCalculatedEvent" in letters[0].reason
        assert letters[0].source_topic == topic
        assert freshness_count() >= observed_before + 2

        # A restart resumes after the stored positions: only the new event is applied, nothing again.
        restarted = AppliedLog()
        async with running_aggregator(settings, restarted):
            again = records(("1",))
            await write_period_facts(connection, DAY, 1, again)
            event = period_calculated_event(DAY, 1, again)
            await producer.send_and_wait(topic, event.model_dump_json().encode(), key=event.kafka_key)
            await restarted.wait_for(lambda: bool(restarted.applied_offsets()))
        assert restarted.applied_offsets() == [3]
        assert await connection.fetchval("SELECT record_count FROM curtailment_daily") == 1
    finally:
        await connection.close()
