"""`summaries verify` names tampered rows, `summaries rebuild` repairs them, and a rebuild racing the consumer
leaves the summaries equal to the facts. Real PostgreSQL; the CLI runs as a subprocess."""

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from windhash_aggregator.handler import apply_messages
from windhash_common.db import create_pool
from windhash_common.summaries.rebuild import rebuild_summaries
from windhash_common.summaries.verify import SummaryDrift, verify_summaries
from windhash_testing.synthetic_facts import (
    CalculationFact,
    RecordFact,
    ensure_miner_models,
    period_calculated_event,
    period_calculated_message,
    write_period_facts,
)

pytestmark = pytest.mark.integration

MODELS = ("verify-s19", "verify-s21")
DAYS = (date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1), date(2024, 3, 2))
WINDHASH = Path(sys.executable).with_name("windhash")


def records_for(day: date, period: int, count: int = 3) -> tuple[RecordFact, ...]:
    return tuple(
        RecordFact(
            bm_unit=f"T_UNIT-{n}",
            acceptance_id=day.toordinal() * 100 + period,
            bid_offer_pair_id=-1,
            lead_party_name=None if n == 0 else f"Party {n % 2}",
            volume_mwh=Decimal(f"-{n + 1}.25"),
            price_gbp_per_mwh=Decimal("-41.5"),
            cashflow_gbp=Decimal(f"-{n + 1}.25") * Decimal("-41.5"),
            calculations=tuple(
                CalculationFact(
                    model, Decimal(f"{n + 1}.25"), Decimal(86_000_000_000_000 + period), Decimal("0.00012345")
                )
                for model in MODELS
            ),
        )
        for n in range(count)
    )


async def seed(connection: asyncpg.Connection) -> None:
    await ensure_miner_models(connection, MODELS)
    # Only the test's models are active, so the facts keep the calculator's rule (every record × every active
    # model has its calculation) that `summaries verify` checks besides the summaries.
    await connection.execute("UPDATE miner_models SET active = (name = ANY($1::text[]))", list(MODELS))
    await connection.execute(
        "INSERT INTO btc_prices (price_date, gbp, usd, source) VALUES ('2024-02-28', 40000, 50000, 'test'),"
        " ('2024-03-01', 41000.5, NULL, 'test')"
    )
    for day in DAYS:
        for period in (1, 2, 48):
            await write_period_facts(connection, day, period, records_for(day, period))


@pytest.fixture
async def seeded(pg_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(pg_dsn, min_size=1, max_size=4)
    async with pool.acquire() as connection:
        await seed(connection)
    await rebuild_summaries(pool)
    yield pool
    await pool.close()


async def drift_of(pool: asyncpg.Pool) -> list[SummaryDrift]:
    async with pool.acquire() as connection:
        return await verify_summaries(connection)


async def tamper(connection: asyncpg.Connection) -> None:
    await connection.execute(
        "UPDATE curtailment_daily SET energy_mwh = energy_mwh + 1 WHERE settlement_date = '2024-02-29'"
    )
    await connection.execute(
        "DELETE FROM bitcoin_monthly WHERE month = '2024-03-01' AND miner_model = 'verify-s21'"
    )
    await connection.execute(
        "INSERT INTO curtailment_yearly (year, energy_mwh, cashflow_gbp, record_count, periods_curtailed,"
        " bm_units_curtailed) VALUES (1999, 1, 1, 1, 1, 1)"
    )
    await connection.execute(
        "UPDATE lead_party_daily SET record_count = 99, bm_units_curtailed = 7"
        " WHERE settlement_date = '2024-03-02' AND lead_party_name = 'Unknown'"
    )
    await connection.execute(
        "UPDATE bitcoin_daily SET value_gbp = NULL"
        " WHERE settlement_date = '2024-02-28' AND miner_model = 'verify-s19'"
    )


def run_cli(pg_dsn: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WINDHASH_DATABASE_URL": pg_dsn, "COLUMNS": "200"}
    return subprocess.run(
        [str(WINDHASH), "summaries", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_verify_is_clean_after_a_rebuild(seeded: asyncpg.Pool) -> None:
    assert await drift_of(seeded) == []
    async with seeded.acquire() as connection:
        assert await connection.fetchval("SELECT count(*) FROM curtailment_daily") == len(DAYS)
        assert await connection.fetchval("SELECT count(*) FROM bitcoin_monthly") == 2 * len(MODELS)


async def test_verify_names_every_tampered_row_and_rebuild_repairs_them(
    seeded: asyncpg.Pool, pg_dsn: str
) -> None:
    async with seeded.acquire() as connection:
        await tamper(connection)

    drift = {(item.table, item.key_text, item.kind, item.columns) for item in await drift_of(seeded)}
    assert drift == {
        ("curtailment_daily", "settlement_date=2024-02-29", "different", ("energy_mwh",)),
        ("bitcoin_monthly", "month=2024-03-01, miner_model=verify-s21", "missing", MONTHLY_BITCOIN_COLUMNS),
        ("curtailment_yearly", "year=1999", "unexpected", CURTAILMENT_COLUMNS),
        (
            "lead_party_daily",
            "settlement_date=2024-03-02, lead_party_name=Unknown",
            "different",
            ("record_count", "bm_units_curtailed"),
        ),
        ("bitcoin_daily", "settlement_date=2024-02-28, miner_model=verify-s19", "different", ("value_gbp",)),
    }

    verified = await asyncio.to_thread(run_cli, pg_dsn, "verify", "--settle-seconds", "0")
    assert verified.returncode == 1, verified.stdout + verified.stderr
    for name in (
        "curtailment_daily",
        "bitcoin_monthly",
        "curtailment_yearly",
        "lead_party_daily",
        "year=1999",
    ):
        assert name in verified.stdout

    rebuilt = await asyncio.to_thread(run_cli, pg_dsn, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert await drift_of(seeded) == []
    clean = await asyncio.to_thread(run_cli, pg_dsn, "verify", "--settle-seconds", "0")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no drift" in clean.stdout


async def test_rebuild_of_a_range_repairs_only_that_range(seeded: asyncpg.Pool, pg_dsn: str) -> None:
    async with seeded.acquire() as connection:
        await connection.execute("UPDATE curtailment_daily SET record_count = 0")
        # Facts removed without an event (each table: nothing cascades): the day's summaries are now stale.
        for table in ("bitcoin_calculations", "curtailment_records", "settlement_periods"):
            await connection.execute(f"DELETE FROM {table} WHERE settlement_date = '2024-03-02'")

    rebuilt = await asyncio.to_thread(
        run_cli, pg_dsn, "rebuild", "--from", "2024-03-01", "--to", "2024-03-02"
    )
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr

    drift = {(item.table, item.key_text) for item in await drift_of(seeded)}
    assert drift == {
        ("curtailment_daily", "settlement_date=2024-02-28"),
        ("curtailment_daily", "settlement_date=2024-02-29"),
    }
    async with seeded.acquire() as connection:
        assert not await connection.fetchval(
            "SELECT count(*) FROM bm_unit_daily WHERE settlement_date = '2024-03-02'"
        )


async def test_rebuild_racing_the_consumer_leaves_summaries_equal_to_the_facts(seeded: asyncpg.Pool) -> None:
    async def consumer() -> None:
        async with seeded.acquire() as connection:
            for offset in range(40):
                day = DAYS[offset % len(DAYS)] + timedelta(days=offset % 3)
                period = offset % 5 + 1
                records = records_for(day, period, count=offset % 4)
                await write_period_facts(connection, day, period, records)
                event = period_calculated_message(
                    "race", 0, offset, period_calculated_event(day, period, records)
                )
                await apply_messages(connection, [event], "race", "race.dead-letter")

    async def rebuilder() -> None:
        for _ in range(3):
            await rebuild_summaries(seeded)

    await asyncio.gather(consumer(), rebuilder(), rebuilder())
    assert await drift_of(seeded) == []


CURTAILMENT_COLUMNS = (
    "energy_mwh",
    "cashflow_gbp",
    "record_count",
    "periods_curtailed",
    "bm_units_curtailed",
)
MONTHLY_BITCOIN_COLUMNS = (
    "btc",
    "energy_mwh",
    "difficulty_min",
    "difficulty_max",
    "difficulty_weighted",
    "value_gbp",
    "value_usd",
    "days_without_price",
)
