"""A live deployment with no manual reference-data sync: `windhash ingest follow` against the synthetic Elexon
server leaves yesterday's periods waiting for difficulty, the market service (against the synthetic market
server) writes the day's difficulty and price, and the calculator and the aggregator complete them: BTC and
fiat values appear. Each service its own OS process, as an operator runs them."""

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from windhash_cli.service_processes import ServiceProcesses
from windhash_common.events_market import MarketSnapshotEvent
from windhash_common.settlement_calendar import settlement_date_of
from windhash_common.topics import Topics
from windhash_elexon_sim.server import ElexonSimServer
from windhash_market_sim.generator import DEFAULT_SEED, difficulty_at, price_gbp
from windhash_market_sim.server import MarketSimServer
from windhash_stack.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
TIMEOUT_S = 300.0


@pytest.fixture
def elexon() -> Iterator[ElexonSimServer]:
    with ElexonSimServer() as server:
        yield server


@pytest.fixture
def market() -> Iterator[MarketSimServer]:
    with MarketSimServer() as server:
        yield server


async def wait_for(
    connection: asyncpg.Connection, processes: ServiceProcesses, sql: str, *args: object
) -> None:
    deadline = asyncio.get_running_loop().time() + TIMEOUT_S
    while not await connection.fetchval(sql, *args):
        processes.check_alive()
        assert asyncio.get_running_loop().time() < deadline, f"never true: {sql}"
        await asyncio.sleep(1)


async def first_snapshot_event(bootstrap: str, topic: str) -> MarketSnapshotEvent:
    """The first event on the market topic, published by the outbox relay (no consumer group)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        message = await asyncio.wait_for(consumer.getone(), timeout=TIMEOUT_S)
    finally:
        await consumer.stop()
    return MarketSnapshotEvent.model_validate_json(message.value or b"")


async def test_periods_waiting_for_difficulty_complete_with_values_from_the_market_service(
    elexon: ElexonSimServer, market: MarketSimServer, service_env: dict[str, str], tmp_path: Path
) -> None:
    prefix = service_env["WINDHASH_TOPIC_PREFIX"]
    env = {
        **service_env,
        "WINDHASH_ELEXON_BASE_URL": elexon.base_url,
        "WINDHASH_EXPLORER_URL": market.url,
        "WINDHASH_PRICE_API_URL": market.url,
        "WINDHASH_FOLLOW_REVISION_DAYS": "0",
        "WINDHASH_CALCULATOR_PENDING_SWEEP_SECONDS": "1",
        "WINDHASH_MARKET_POLL_SECONDS": "2",
        "WINDHASH_MARKET_BACKFILL_HOURS": "1",
        "WINDHASH_MARKET_REFERENCE_DAYS": "3",
        "WINDHASH_CALCULATOR_GROUP": f"market-e2e-calculator-{prefix}",
        "WINDHASH_AGGREGATOR_GROUP": f"market-e2e-aggregator-{prefix}",
    }
    yesterday = settlement_date_of(datetime.now(UTC)) - timedelta(days=1)
    processes = ServiceProcesses(env=env, log_dir=tmp_path / "logs")
    connection = await asyncpg.connect(service_env["WINDHASH_DATABASE_URL"])
    try:
        for name in ("calculator", "aggregator"):
            processes.start(name, extra_env={"WINDHASH_METRICS_PORT": str(free_port())})
        processes.start("follow", "ingest", "follow", extra_env={"WINDHASH_METRICS_PORT": str(free_port())})
        # Nothing has told the system any difficulty: yesterday's periods wait for it.
        await wait_for(
            connection,
            processes,
            "SELECT count(*) = 48 FROM settlement_periods"
            " WHERE settlement_date = $1 AND status = 'pending_difficulty'",
            yesterday,
        )
        assert await connection.fetchval("SELECT count(*) FROM btc_prices") == 0

        processes.start("market", extra_env={"WINDHASH_METRICS_PORT": str(free_port())})
        await wait_for(
            connection,
            processes,
            "SELECT count(*) = 48 FROM settlement_periods"
            " WHERE settlement_date = $1 AND status = 'calculated'",
            yesterday,
        )
        await wait_for(
            connection,
            processes,
            "SELECT bool_and(value_gbp IS NOT NULL) FROM bitcoin_daily WHERE settlement_date = $1",
            yesterday,
        )
        periods = await connection.fetch(
            "SELECT period_start_utc, difficulty FROM settlement_periods WHERE settlement_date = $1",
            yesterday,
        )
        price = await connection.fetchrow(
            "SELECT gbp, source FROM btc_prices WHERE price_date = $1", yesterday
        )
        btc = await connection.fetchval(
            "SELECT sum(btc) FROM bitcoin_daily WHERE settlement_date = $1", yesterday
        )
        snapshots = await connection.fetchval("SELECT count(*) FROM market_analytics WHERE synthetic")
        topic = Topics(prefix=prefix).market_snapshots
        event = await first_snapshot_event(service_env["WINDHASH_KAFKA_BOOTSTRAP"], topic)
    except BaseException:
        for service in processes.services.values():
            print(f"--- {service.name}\n{service.log_tail(30)}")
        raise
    finally:
        processes.stop_all()
        await connection.close()

    for period in periods:  # each at the difficulty in effect at 00:00 UTC of its own UTC date
        midnight = datetime.combine(period["period_start_utc"].astimezone(UTC).date(), time(0), tzinfo=UTC)
        assert period["difficulty"] == difficulty_at(DEFAULT_SEED, midnight)
    midnight = datetime.combine(yesterday, time(0), tzinfo=UTC)
    assert price is not None and price["source"] == "synthetic"
    assert price["gbp"] == price_gbp(DEFAULT_SEED, midnight)
    assert btc > 0 and snapshots > 0
    assert event.synthetic and event.price_gbp > 0  # the snapshots are events on Kafka too
