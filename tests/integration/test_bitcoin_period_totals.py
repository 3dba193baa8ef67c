"""bitcoin_period_totals (migration 0700) stays equal to the aggregate of bitcoin_calculations through every
kind of write (the calculator's COPY, INSERT, DELETE, UPDATE, TRUNCATE), `summaries verify` reports it when
it is not (triggers bypassed), and `summaries rebuild` repairs it. Real PostgreSQL."""

from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

import asyncpg
import pytest
from windhash_common.db import create_pool
from windhash_common.summaries.rebuild import rebuild_summaries
from windhash_common.summaries.summary_tables import BITCOIN_PERIOD_TOTALS
from windhash_common.summaries.verify import verify_summaries
from windhash_testing.synthetic_facts import (
    CalculationFact,
    RecordFact,
    ensure_miner_models,
    write_period_facts,
)

pytestmark = pytest.mark.integration

DAY = date(2024, 4, 2)
MODELS = ("totals-a", "totals-b")


def records(period: int, count: int) -> tuple[RecordFact, ...]:
    return tuple(
        RecordFact(
            bm_unit=f"T_TOT-{n}",
            acceptance_id=period * 1000 + n,
            bid_offer_pair_id=-1,
            lead_party_name=None,
            volume_mwh=Decimal(f"-{n + 1}.123456"),
            price_gbp_per_mwh=Decimal("-50"),
            cashflow_gbp=Decimal(f"{n + 1}.123456") * 50,
            calculations=tuple(
                CalculationFact(
                    model,
                    Decimal(f"{n + 1}.123456"),
                    # Two difficulties in one period, so min, max and the weighted sum are all exercised.
                    Decimal(86_000_000_000_000 + 7 * n),
                    Decimal(f"0.000{n + 1}2345"),
                )
                for model in MODELS
            ),
        )
        for n in range(count)
    )


@pytest.fixture
async def pool(pg_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(pg_dsn, min_size=1, max_size=2)
    async with pool.acquire() as connection:
        await ensure_miner_models(connection, MODELS)
        for period in (1, 2, 3):
            await write_period_facts(connection, DAY, period, records(period, 3))
    yield pool
    await pool.close()


async def totals_drift(connection: asyncpg.Connection) -> list[tuple[str, str]]:
    drift = await verify_summaries(connection, DAY, DAY)
    return [(item.kind, item.key_text) for item in drift if item.table == BITCOIN_PERIOD_TOTALS.name]


async def stored_totals(connection: asyncpg.Connection) -> dict[tuple[int, str], tuple[object, ...]]:
    rows = await connection.fetch(
        "SELECT settlement_period, miner_model, calculations, energy_mwh, btc, difficulty_min,"
        " difficulty_max, difficulty_sum, energy_x_difficulty FROM bitcoin_period_totals"
    )
    return {(row[0], row[1]): tuple(row.values())[2:] for row in rows}


async def test_totals_follow_every_kind_of_write(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as connection:
        assert len(await stored_totals(connection)) == 3 * len(MODELS)
        assert await totals_drift(connection) == []
        (calculations, energy, btc, low, high, difficulties, weighted) = (await stored_totals(connection))[
            (1, MODELS[0])
        ]
        base = Decimal(86_000_000_000_000)
        assert (calculations, energy, low, high) == (3, Decimal("6.370368"), base, base + 14)
        assert btc == Decimal("0.00012345") + Decimal("0.00022345") + Decimal("0.00032345")
        assert difficulties == 3 * base + 21
        assert weighted == sum(Decimal(f"{n + 1}.123456") * (86_000_000_000_000 + 7 * n) for n in range(3))

        # A period rewritten smaller (delete + insert), a row changed, rows removed, a row moved.
        await write_period_facts(connection, DAY, 2, records(2, 1))
        await connection.execute(
            "UPDATE bitcoin_calculations SET btc = btc * 2, difficulty = difficulty + 1000"
            " WHERE settlement_date = $1 AND settlement_period = 3 AND bm_unit = 'T_TOT-1'",
            DAY,
        )
        await connection.execute(
            "DELETE FROM bitcoin_calculations WHERE settlement_date = $1 AND settlement_period = 1"
            " AND miner_model = $2",
            DAY,
            MODELS[1],
        )
        await connection.execute(
            "UPDATE bitcoin_calculations SET settlement_period = 4"
            " WHERE settlement_date = $1 AND settlement_period = 3 AND bm_unit = 'T_TOT-2'",
            DAY,
        )
        assert await totals_drift(connection) == []
        totals = await stored_totals(connection)
        assert (1, MODELS[1]) not in totals
        assert totals[(2, MODELS[0])][0] == 1 and totals[(4, MODELS[1])][0] == 1

        await connection.execute("TRUNCATE bitcoin_calculations")
        assert await stored_totals(connection) == {}


async def test_verify_reports_totals_that_bypassed_the_triggers_and_rebuild_repairs_them(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as connection:
        await connection.execute("ALTER TABLE bitcoin_calculations DISABLE TRIGGER USER")
        try:
            await connection.execute(
                "DELETE FROM bitcoin_calculations WHERE settlement_date = $1 AND settlement_period = 2", DAY
            )
        finally:
            await connection.execute("ALTER TABLE bitcoin_calculations ENABLE TRIGGER USER")
        await connection.execute(
            "UPDATE bitcoin_period_totals SET btc = btc + 1 WHERE settlement_period = 1 AND miner_model = $1",
            MODELS[0],
        )
        day = f"settlement_date={DAY}"
        assert sorted(await totals_drift(connection)) == [
            ("different", f"{day}, settlement_period=1, miner_model={MODELS[0]}"),
            *(("unexpected", f"{day}, settlement_period=2, miner_model={model}") for model in MODELS),
        ]
    await rebuild_summaries(pool, DAY, DAY)
    async with pool.acquire() as connection:
        assert await verify_summaries(connection, DAY, DAY) == []
