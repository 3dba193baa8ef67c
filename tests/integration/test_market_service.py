"""The market service against the synthetic market server over HTTP, real PostgreSQL and DynamoDB Local: the
live slot, the backfill, reference data, indicators, and what injected source faults leave behind."""

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from windhash_common.db import create_pool
from windhash_common.difficulty_store import open_difficulty_store
from windhash_common.events_market import MarketSnapshotEvent
from windhash_common.job_leases import JobLease
from windhash_market.indicators import recompute
from windhash_market.metrics import SNAPSHOTS
from windhash_market.runner import market_collector
from windhash_market.settings import JOB_KEY, MarketSettings
from windhash_market_sim.faults import FaultRule
from windhash_market_sim.generator import difficulty_at, price_gbp
from windhash_market_sim.server import MarketSimServer

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 1, 12, 2, tzinfo=UTC)
SLOT = timedelta(minutes=15)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock: Clock) -> Iterator[MarketSimServer]:
    with MarketSimServer(clock=clock) as server:
        yield server


def market_settings(sim: MarketSimServer, backfill_hours: int = 0) -> MarketSettings:
    return MarketSettings(
        explorer_url=sim.url,
        price_api_url=sim.url,
        source_attempts=2,
        source_backoff_initial_s=0.01,
        source_backoff_max_s=0.05,
        source_deadline_s=1.0,
        market_backfill_hours=backfill_hours,
    )


@pytest.fixture
async def pool(service_env: dict[str, str]) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(service_env["WINDHASH_DATABASE_URL"], max_size=4)
    yield pool
    await pool.close()


async def slots(pool: asyncpg.Pool) -> dict[datetime, tuple[str, str | None]]:
    rows = await pool.fetch("SELECT slot_at, status, reason FROM market_slots ORDER BY 1")
    return {row[0]: (row[1], row[2]) for row in rows}


async def test_a_cycle_takes_its_slot_backfills_the_missed_ones_and_keeps_reference_data_current(
    sim: MarketSimServer, clock: Clock, pool: asyncpg.Pool
) -> None:
    settings = market_settings(sim, backfill_hours=2)
    async with market_collector(settings, pool, clock) as collector:
        await collector.run_cycle()
        await collector.run_cycle()  # idempotent: nothing new, nothing doubled

    current = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    rows = await pool.fetch("SELECT * FROM market_analytics ORDER BY slot_at")
    assert [row["slot_at"] for row in rows] == [current - SLOT * n for n in range(8, -1, -1)]
    assert [row["backfilled"] for row in rows] == [True] * 8 + [False]
    assert all(row["synthetic"] for row in rows)
    live = rows[-1]
    assert live["difficulty"] == difficulty_at(2019, START) and live["block_reward_btc"] == Decimal("3.125")
    assert live["price_gbp"] == price_gbp(2019, START)

    events = await pool.fetch("SELECT topic, key, payload::text FROM outbox ORDER BY id")
    assert len(events) == 9 and {event["topic"] for event in events} == {settings.topics.market_snapshots}
    assert MarketSnapshotEvent.model_validate_json(events[0]["payload"]).slot_at == current  # live first
    assert await pool.fetchval("SELECT count(*) FROM technical_indicators") == 9

    days = [date(2026, 3, 1) - timedelta(days=n) for n in range(7)]
    async with open_difficulty_store(settings) as store:
        stored = await store.difficulties(days)
    assert stored == {
        day: difficulty_at(2019, datetime(day.year, day.month, day.day, tzinfo=UTC)) for day in days
    }
    prices = await pool.fetch("SELECT price_date, source FROM btc_prices ORDER BY 1")
    assert [(row[0], row[1]) for row in prices] == [(day, "synthetic") for day in sorted(days)]


async def test_the_service_survives_every_kind_of_source_fault_and_never_invents_a_value(
    sim: MarketSimServer, clock: Clock, pool: asyncpg.Pool
) -> None:
    faults = [
        (FaultRule(kind="status", endpoint="price", status=503, times=None), "missed", "HTTP 503"),
        (FaultRule(kind="slow", endpoint="hashrate", delay_s=5, times=None), "missed", "no whole reply"),
        (FaultRule(kind="malformed", endpoint="block", times=None), "missed", "not JSON"),
        (FaultRule(kind="missing_field", endpoint="price", field="usd"), "missed", "usd is None"),
        (
            FaultRule(kind="value", endpoint="price", field="usd", value=0),
            "refused",
            "USD price 0 is not positive",
        ),
        (
            FaultRule(kind="value", endpoint="price", field="gbp", value=-5),
            "refused",
            "GBP price -5 is not positive",
        ),
        (
            FaultRule(kind="value", endpoint="hashrate", field="currentDifficulty", value=0.5),
            "refused",
            "difficulty",
        ),
        (
            FaultRule(kind="value", endpoint="hashrate", field="currentHashrate", value=1e30),
            "refused",
            "hashrate",
        ),
        (
            FaultRule(kind="value", endpoint="price", field="usd", value=1e30),
            "refused",
            "outside the plausible",
        ),
        (FaultRule(kind="stale", endpoint="price", delay_s=7200), "refused", "price quote is stale"),
        (FaultRule(kind="stale", endpoint="block", delay_s=6 * 3600), "refused", "tip block is stale"),
    ]
    settings = market_settings(sim)
    async with market_collector(settings, pool, clock) as collector:
        await collector.take_live(clock())  # a good slot first: the price jump rule has a neighbour
        for rule, status, reason in faults:
            clock.now += SLOT
            sim.clear_faults()
            sim.add_fault(rule)
            await collector.take_live(clock())
            outcome = (await slots(pool))[collector_slot(clock)]
            assert outcome[0] == status and reason in (outcome[1] or ""), (rule, outcome)
        sim.clear_faults()
        clock.now += SLOT
        await collector.take_live(clock())  # the sources recover: so does the service

    stored = await pool.fetch("SELECT slot_at FROM market_analytics ORDER BY 1")
    assert [row[0] for row in stored] == [collector_slot(Clock(START)), collector_slot(clock)]
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 2  # no event for a slot without a snapshot
    assert SNAPSHOTS.labels("refused")._value.get() >= 7


def collector_slot(clock: Clock) -> datetime:
    return clock.now.replace(minute=clock.now.minute // 15 * 15, second=0, microsecond=0)


async def test_a_slot_the_history_lacks_stays_a_gap_after_its_attempts(
    sim: MarketSimServer, clock: Clock, pool: asyncpg.Pool
) -> None:
    settings = market_settings(sim, backfill_hours=1)
    empty_chart = b'{"prices": [], "market_caps": [], "total_volumes": []}'
    sim.add_fault(FaultRule(kind="payload", endpoint="chart", body=empty_chart, times=None))
    sim.add_fault(FaultRule(kind="status", endpoint="price", status=500, times=None))
    async with market_collector(settings, pool, clock) as collector:
        for _ in range(settings.market_slot_attempts + 1):
            await collector.run_cycle()
        sim.clear_faults()
        await collector.run_cycle()  # the sources are back, but the slots have had their attempts
        clock.now += SLOT
        await collector.run_cycle()

    gaps = [datetime(2026, 3, 1, 11, 0, tzinfo=UTC) + SLOT * n for n in range(5)]  # 11:00 to 12:00
    outcomes = await slots(pool)
    assert [slot for slot, (status, _) in outcomes.items() if status == "missed"] == gaps
    assert "history has no USD price" in (outcomes[gaps[0]][1] or "")
    assert "HTTP 500" in (outcomes[gaps[-1]][1] or "")
    stored = [row[0] for row in await pool.fetch("SELECT slot_at FROM market_analytics")]
    assert stored == [datetime(2026, 3, 1, 12, 15, tzinfo=UTC)]  # no invented value in any gap


async def test_a_backfill_source_failure_uses_up_an_attempt_only_of_the_slot_whose_own_read_failed(
    sim: MarketSimServer, clock: Clock, pool: asyncpg.Pool
) -> None:
    settings = market_settings(sim, backfill_hours=1)  # 11:00 to 11:45 before the 12:00 slot
    first = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    async with market_collector(settings, pool, clock) as collector:
        # What every slot shares fails (the difficulty adjustments): no slot was read, none uses an attempt.
        sim.add_fault(FaultRule(kind="status", endpoint="adjustments", status=503, times=None))
        for _ in range(settings.market_slot_attempts + 1):
            await collector.backfill(clock())
        assert await slots(pool) == {}
        sim.clear_faults()
        # The first slot's own block fails after its retries: that slot alone is missed, with one attempt;
        # the others are backfilled in the same cycle.
        sim.add_fault(FaultRule(kind="status", endpoint="block", status=500, times=settings.source_attempts))
        await collector.backfill(clock())
        rows = await pool.fetch("SELECT slot_at, status, reason, attempts FROM market_slots ORDER BY 1")
        assert [(row[0], row[1], row[3]) for row in rows] == [(first, "missed", 1)] + [
            (first + SLOT * n, "backfilled", 1) for n in (1, 2, 3)
        ]
        assert "a source failed" in rows[0]["reason"] and "HTTP 500" in rows[0]["reason"]
        await collector.backfill(clock())  # its next attempt finds the source back
    outcome = await pool.fetchrow("SELECT status, attempts FROM market_slots WHERE slot_at = $1", first)
    assert (outcome["status"], outcome["attempts"]) == ("backfilled", 2)
    assert await pool.fetchval("SELECT count(*) FROM market_analytics") == 4


async def test_a_slot_backfilled_before_the_newest_recomputes_the_indicators_after_it(
    sim: MarketSimServer, clock: Clock, pool: asyncpg.Pool
) -> None:
    settings = market_settings(sim, backfill_hours=4)
    sim.add_fault(FaultRule(kind="status", endpoint="price", status=503, times=settings.source_attempts))
    async with market_collector(settings, pool, clock) as collector:
        await collector.run_cycle()  # 12:00 missed live; 08:00-11:45 backfilled
        clock.now += SLOT
        await collector.run_cycle()  # 12:15 live, then 12:00 from history: before the series' newest
    rows = await pool.fetch(
        "SELECT m.slot_at, m.backfilled, i.ema_12, i.signal FROM market_analytics m"
        " JOIN technical_indicators i USING (slot_at) ORDER BY 1"
    )
    first = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert [(row[0], row[1]) for row in rows] == [(first + SLOT * n, n < 17) for n in range(18)]
    assert rows[-2][2] is not None  # EMA 12 has warmed up by 12:00
    prices = await pool.fetch("SELECT slot_at, price_usd FROM market_analytics ORDER BY 1")
    _, expected = recompute((row[0], row[1]) for row in prices)
    assert [row["ema_12"] for row in rows] == [value.ema_12 for value in expected]


async def run_cli(env: dict[str, str], *args: str, expect: int = 0) -> str:
    windhash = str(Path(sys.executable).with_name("windhash"))
    process = await asyncio.create_subprocess_exec(
        windhash, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == expect, output.decode()
    return output.decode()


async def test_the_cli_waits_for_the_jobs_holder_then_takes_a_snapshot_and_shows_status_and_hashprice(
    sim: MarketSimServer, clock: Clock, service_env: dict[str, str], pool: asyncpg.Pool
) -> None:
    env = {
        **os.environ,
        **service_env,
        "WINDHASH_EXPLORER_URL": sim.url,
        "WINDHASH_PRICE_API_URL": sim.url,
        "WINDHASH_MARKET_BACKFILL_HOURS": "1",
        "COLUMNS": "200",
    }
    clock.now = datetime.now(UTC)  # the CLI's clock is the real one
    lease = JobLease(pool, JOB_KEY, ttl_seconds=60)
    assert await lease.try_take()
    output = await run_cli(env, "market", "snapshot-now", expect=1)
    assert "held by a running service" in output
    assert await pool.fetchval("SELECT count(*) FROM market_analytics") == 0
    await lease.release()

    sim.add_fault(FaultRule(kind="value", endpoint="price", field="usd", value=-1))
    await run_cli(env, "market", "snapshot-now")
    status = await run_cli(env, "market", "status")
    assert "newest snapshot" in status and "SYNTHETIC" in status and "1 refused" in status
    assert "USD price -1 is not positive" in status
    hashprice = await run_cli(env, "market", "hashprice", "--csv")
    header, *rows = hashprice.strip().splitlines()
    assert header.startswith("model,GBP per MWh") and len(rows) == await pool.fetchval(
        "SELECT count(*) FROM miner_models WHERE active"
    )
    recomputed = await run_cli(env, "market", "indicators", "recompute")
    assert f"{await pool.fetchval('SELECT count(*) FROM market_analytics')} snapshots'" in recomputed
