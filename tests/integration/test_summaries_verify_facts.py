"""The fact checks of `summaries verify` (windhash_common.summaries.verify.verify_facts) report what the
foreign keys dropped by migration 0600 used to keep out, and what the calculator's rule (records × active
models) implies: calculations without their record, of a model not in miner_models, or in a period not
calculated; records without their period; missing calculations. Facts are written by the calculator's own
write path, then tampered with by hand."""

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from windhash_calculator.handler import apply_messages
from windhash_common.bitcoin import MINED_HALVINGS
from windhash_common.consumer_runtime.messages import ConsumedMessage
from windhash_common.db import create_pool
from windhash_common.events import CurtailmentRecord, SettlementPeriodEvent
from windhash_common.miner_models import active_miner_models
from windhash_common.summaries.rebuild import rebuild_summaries
from windhash_common.summaries.verify import verify_facts, verify_summaries
from windhash_common.topics import Topics

pytestmark = pytest.mark.integration

DAY, PENDING_DAY = date(2024, 3, 5), date(2024, 3, 6)  # the second day has no difficulty: held pending
DIFFICULTY = Decimal("80123456789012.5")
FETCHED = datetime(2024, 3, 7, tzinfo=UTC)
WINDHASH = Path(sys.executable).with_name("windhash")


def period_event(day: date, period: int) -> SettlementPeriodEvent:
    records = tuple(
        CurtailmentRecord(
            bm_unit=f"T_FACT-{n}",
            acceptance_id=period * 100 + n,
            bid_offer_pair_id=-1,
            sequence_number=1,
            created_at=None,
            volume_mwh=Decimal(f"-{n + 1}.125"),
            original_price_gbp_per_mwh=Decimal("-40"),
            final_price_gbp_per_mwh=None,
            cashflow_gbp=Decimal(f"{n + 1}.125") * 40,
            so_flag=False,
            cadl_flag=None,
        )
        for n in range(4)
    )
    return SettlementPeriodEvent.build(day, period, records, FETCHED, synthetic=True)


@pytest.fixture
async def written(pg_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """Periods 1-3 of DAY calculated, period 1 of PENDING_DAY pending difficulty, in a calculator batch."""
    connection = await asyncpg.connect(pg_dsn)
    events = [period_event(DAY, period) for period in (1, 2, 3)] + [period_event(PENDING_DAY, 1)]
    messages = [
        ConsumedMessage("facts", 0, offset, event.kafka_key, event.model_dump_json().encode())
        for offset, event in enumerate(events)
    ]
    outcome = await apply_messages(
        connection, messages, "facts", Topics("facts"), {DAY: DIFFICULTY}, MINED_HALVINGS
    )
    assert outcome.result.calculations == 3 * 4 * len(await active_miner_models(connection))
    yield connection
    await connection.close()


async def facts_drift(connection: asyncpg.Connection) -> set[tuple[str, str, str, str | None]]:
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        drift = await verify_facts(connection, DAY, PENDING_DAY)
    return {(item.table, item.key_text, item.kind, item.detail) for item in drift}


async def test_facts_written_by_the_calculator_pass(written: asyncpg.Connection) -> None:
    assert await facts_drift(written) == set()


async def test_every_broken_link_is_reported(written: asyncpg.Connection) -> None:
    models = [model.name for model in await active_miner_models(written)]
    # A record deleted by hand: its calculations stay behind (nothing cascades any more).
    await written.execute(
        "DELETE FROM curtailment_records WHERE settlement_date = $1 AND settlement_period = 1"
        " AND bm_unit = 'T_FACT-0'",
        DAY,
    )
    # A calculation of a model that is not in miner_models, and one calculation missing.
    await written.execute(
        "INSERT INTO bitcoin_calculations (settlement_date, settlement_period, bm_unit, acceptance_id,"
        " bid_offer_pair_id, miner_model, energy_mwh, difficulty, block_reward_btc, btc)"
        " SELECT settlement_date, settlement_period, bm_unit, acceptance_id, bid_offer_pair_id, 'GONE',"
        " energy_mwh, difficulty, block_reward_btc, btc FROM bitcoin_calculations WHERE settlement_date = $1"
        " AND settlement_period = 2 AND miner_model = 'S9' AND bm_unit = 'T_FACT-1'",
        DAY,
    )
    await written.execute(
        "DELETE FROM bitcoin_calculations WHERE settlement_date = $1 AND settlement_period = 2"
        " AND miner_model = 'S21' AND bm_unit = 'T_FACT-3'",
        DAY,
    )
    # A period's row deleted by hand: its records and calculations stay behind.
    await written.execute(
        "DELETE FROM settlement_periods WHERE settlement_date = $1 AND settlement_period = 3", DAY
    )
    # A calculation in a period still waiting for its difficulty.
    await written.execute(
        "INSERT INTO bitcoin_calculations (settlement_date, settlement_period, bm_unit, acceptance_id,"
        " bid_offer_pair_id, miner_model, energy_mwh, difficulty, block_reward_btc, btc)"
        " VALUES ($1, 1, 'T_FACT-2', 102, -1, 'S9', 3.125, 1, 3.125, 0.1)",
        PENDING_DAY,
    )

    def calculations(day: date, period: int, model: str) -> str:
        return f"settlement_date={day}, settlement_period={period}, miner_model={model}"

    assert await facts_drift(written) == {
        *(
            (
                "bitcoin_calculations",
                calculations(DAY, 1, model),
                "unexpected",
                "1 calculations without their curtailment record",
            )
            for model in models
        ),
        (
            "bitcoin_calculations",
            calculations(DAY, 2, "GONE"),
            "unexpected",
            "1 calculations of a model missing from miner_models",
        ),
        (
            "bitcoin_calculations",
            calculations(DAY, 2, "S21"),
            "missing",
            "1 of 4 records have no calculation",
        ),
        *(
            (
                "bitcoin_calculations",
                calculations(DAY, 3, model),
                "unexpected",
                "4 calculations in a period not in settlement_periods",
            )
            for model in models
        ),
        (
            "curtailment_records",
            f"settlement_date={DAY}, settlement_period=3",
            "unexpected",
            "4 records of a period not in settlement_periods",
        ),
        (
            "bitcoin_calculations",
            calculations(PENDING_DAY, 1, "S9"),
            "unexpected",
            "1 calculations in a period pending_difficulty",
        ),
    }


async def test_a_model_without_its_history_is_missing_calculations(written: asyncpg.Connection) -> None:
    await written.execute("DELETE FROM bitcoin_calculations WHERE miner_model = 'M60S'")
    assert await facts_drift(written) == {
        (
            "bitcoin_calculations",
            f"settlement_date={DAY}, settlement_period={period}, miner_model=M60S",
            "missing",
            "4 of 4 records have no calculation",
        )
        for period in (1, 2, 3)
    }
    # Deactivated, the model is no longer expected anywhere.
    await written.execute("UPDATE miner_models SET active = false WHERE name = 'M60S'")
    assert await facts_drift(written) == set()


async def test_summaries_verify_reports_the_facts_and_summary_checks_alone_do_not(
    written: asyncpg.Connection, pg_dsn: str
) -> None:
    pool = await create_pool(pg_dsn, min_size=1, max_size=2)
    try:
        await rebuild_summaries(pool)
    finally:
        await pool.close()
    env = {**os.environ, "WINDHASH_DATABASE_URL": pg_dsn, "COLUMNS": "250"}
    command = [str(WINDHASH), "summaries", "verify", "--settle-seconds", "0"]
    clean = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=120
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr

    await written.execute(
        "DELETE FROM bitcoin_calculations WHERE miner_model = 'M60S' AND settlement_period = 2"
    )
    # Summaries rebuilt from the damaged facts equal them: only the fact checks see what is missing.
    pool = await create_pool(pg_dsn, min_size=1, max_size=2)
    try:
        await rebuild_summaries(pool)
    finally:
        await pool.close()
    assert await verify_summaries(written) == []
    drift = await verify_summaries(written, facts=True)
    assert [(item.table, item.kind, item.detail) for item in drift] == [
        ("bitcoin_calculations", "missing", "4 of 4 records have no calculation")
    ]
    verified = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=120
    )
    assert verified.returncode == 1, verified.stdout + verified.stderr
    assert "bitcoin_calculations" in verified.stdout
    assert "miner_model=M60S" in verified.stdout
    assert "4 of 4 records have no calculation" in verified.stdout
