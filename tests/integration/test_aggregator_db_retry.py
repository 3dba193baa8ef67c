"""The aggregator through a lost PostgreSQL connection: the batch whose transaction fails is retried on a new
connection and applied once the database answers again; the service keeps running (it used to exit 1)."""

import asyncio
from datetime import date
from decimal import Decimal

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY
from test_db_fault_support import WAIT_SECONDS, terminate_lock_waiters  # type: ignore[import-not-found]
from windhash_aggregator.handler import AppliedBatch
from windhash_aggregator.runner import run_aggregator
from windhash_aggregator.settings import AggregatorSettings
from windhash_testing.synthetic_facts import (
    CalculationFact,
    RecordFact,
    ensure_miner_models,
    period_calculated_event,
    write_period_facts,
)

pytestmark = pytest.mark.integration

DAY = date(2024, 6, 3)
MODEL = "retry-s21"


def one_record(period: int) -> tuple[RecordFact, ...]:
    return (
        RecordFact(
            bm_unit=f"T_RETRY-{period}",
            acceptance_id=2000 + period,
            bid_offer_pair_id=-1,
            lead_party_name="Retry Wind",
            volume_mwh=Decimal("-4"),
            price_gbp_per_mwh=Decimal("-50"),
            cashflow_gbp=Decimal("200"),
            calculations=(
                CalculationFact(MODEL, Decimal("4"), Decimal(90_000_000_000_000), Decimal("0.001")),
            ),
        ),
    )


async def publish(
    connection: asyncpg.Connection, producer: AIOKafkaProducer, topic: str, period: int
) -> None:
    facts = one_record(period)
    await write_period_facts(connection, DAY, period, facts)
    event = period_calculated_event(DAY, period, facts)
    await producer.send_and_wait(topic, event.model_dump_json().encode(), key=event.kafka_key)


async def until(condition_met: asyncio.Event, service: asyncio.Task[None]) -> None:
    """Wait for the condition, failing at once if the service stops instead."""
    waiter = asyncio.create_task(condition_met.wait())
    done, _ = await asyncio.wait({waiter, service}, timeout=WAIT_SECONDS, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if service in done:
        raise AssertionError(f"the aggregator stopped: {service.exception()!r}")
    assert waiter in done, "timed out"


async def test_a_batch_whose_connection_is_lost_is_applied_on_retry(
    service_env: dict[str, str], pg_dsn: str
) -> None:
    settings = AggregatorSettings(
        aggregator_group=f"aggregator-retry-{service_env['WINDHASH_TOPIC_PREFIX']}",
        metrics_port=0,
    )
    topic = settings.topics.period_calculated
    retries_before = (
        REGISTRY.get_sample_value("windhash_dependency_retries_total", {"dependency": "postgresql"}) or 0.0
    )
    applied_offsets: list[int] = []
    first_applied, second_applied = asyncio.Event(), asyncio.Event()

    def on_applied(batch: AppliedBatch) -> None:
        applied_offsets.extend(positioned.offset for positioned in batch.applied)
        (second_applied if 1 in applied_offsets else first_applied).set()

    connection = await asyncpg.connect(pg_dsn)
    blocker = await asyncpg.connect(pg_dsn)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    stop = asyncio.Event()
    service = asyncio.create_task(run_aggregator(settings, stop, on_applied))
    try:
        await ensure_miner_models(connection, [MODEL])
        await publish(connection, producer, topic, 1)
        await until(first_applied, service)

        # Hold the consumer's position row so the next batch transaction waits on it, then cut that
        # transaction's connection as a PostgreSQL restart would.
        holding = blocker.transaction()
        await holding.start()
        await blocker.execute(
            "SELECT * FROM consumer_positions WHERE consumer_group = $1 FOR UPDATE", settings.aggregator_group
        )
        await publish(connection, producer, topic, 2)
        assert await terminate_lock_waiters(connection) >= 1
        await holding.rollback()

        await until(second_applied, service)
        assert applied_offsets == [0, 1]
        assert (
            await connection.fetchval(
                "SELECT record_count FROM curtailment_daily WHERE settlement_date = $1", DAY
            )
            == 2
        )
        assert (
            await connection.fetchval(
                "SELECT sum(next_offset) FROM consumer_positions WHERE consumer_group = $1",
                settings.aggregator_group,
            )
            == 2
        )
        assert (
            REGISTRY.get_sample_value("windhash_dependency_retries_total", {"dependency": "postgresql"})
            or 0.0
        ) > retries_before
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(service, return_exceptions=True), WAIT_SECONDS)
        await producer.stop()
        await blocker.close()
        await connection.close()
