"""Correcting stored reference data as an operator does it (`windhash difficulty set`, `windhash prices set`)
over the real pipeline (synthetic Elexon → ingestor → Kafka → calculator → aggregator → PostgreSQL): the
corrected day's calculations and summaries change to the exact figures the new value gives, every other
day's rows stay as they were, and the audit trail holds who, why, old and new.

Expected BTC is recomputed here with exact fractions, independently of windhash_common.bitcoin."""

import json
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from typing import Any

import asyncpg
import pytest
from test_calculator_unstorable import put_difficulty_unchecked  # type: ignore[import-not-found]
from test_reconcile_cli_api import windhash  # type: ignore[import-not-found]
from test_reconcile_support import (  # type: ignore[import-not-found]
    eventually,
    ingest_through_pipeline,
    load_reference_data,
    reconcile_settings,
    running_services,
)
from windhash_common.difficulty_store import open_difficulty_store
from windhash_elexon_sim import ElexonSimServer
from windhash_ingestor.backfill import ingest_range
from windhash_ingestor.ingest_report import REFUSED_BY_CALCULATOR

pytestmark = pytest.mark.integration

DAY = date(2024, 1, 10)  # GMT: the settlement day is the UTC day, so only its own periods are affected
OTHER_DAY = date(2024, 1, 11)
REWARD = Fraction(625, 100)  # before the April 2024 halving
SATOSHI = Decimal("0.00000001")


def expected_btc(energy: Decimal, hashrate: Decimal, power: Decimal, difficulty: Decimal) -> Decimal:
    exact = (
        Fraction(energy) * 3_600_000_000 / Fraction(power) * Fraction(hashrate) * 10**12
        / (Fraction(difficulty) * 2**32) * REWARD
    )  # fmt: skip
    with localcontext() as context:
        context.prec = 60
        value = Decimal(exact.numerator) / Decimal(exact.denominator)
    return value.quantize(SATOSHI, rounding=ROUND_HALF_EVEN)


async def rows(connection: asyncpg.Connection, query: str, *args: object) -> list[tuple[Any, ...]]:
    return sorted((tuple(row) for row in await connection.fetch(query, *args)), key=repr)


async def day_rows(connection: asyncpg.Connection, day: date) -> dict[str, list[tuple[Any, ...]]]:
    """The day's facts and daily summaries (timestamps of writing left out)."""
    return {
        "periods": await rows(
            connection,
            "SELECT settlement_period, content_hash, status, difficulty FROM settlement_periods"
            " WHERE settlement_date = $1",
            day,
        ),
        "calculations": await rows(
            connection, "SELECT * FROM bitcoin_calculations WHERE settlement_date = $1", day
        ),
        "bitcoin_daily": await rows(
            connection,
            "SELECT miner_model, btc, energy_mwh, difficulty_min, difficulty_max, value_gbp, value_usd"
            " FROM bitcoin_daily WHERE settlement_date = $1",
            day,
        ),
    }


async def test_a_corrected_difficulty_and_price_recalculate_exactly_their_day_and_are_audited(
    service_env: dict[str, str], pg_dsn: str
) -> None:
    env = {**service_env, "WINDHASH_DIFFICULTY_CACHE_SECONDS": "0"}
    with ElexonSimServer() as sim:
        settings = reconcile_settings(sim)
        await load_reference_data(settings)
        await ingest_through_pipeline(settings, DAY, OTHER_DAY)
    async with open_difficulty_store(settings.calculator) as store:
        old = await store.difficulty(DAY)
    assert old is not None
    new = (old * Decimal("1.1")).quantize(Decimal(1))
    connection = await asyncpg.connect(pg_dsn)
    try:
        before_other = await day_rows(connection, OTHER_DAY)
        records_before = await rows(connection, "SELECT * FROM curtailment_records")
        assert before_other["calculations"] and (await day_rows(connection, DAY))["calculations"]

        code, output = await windhash(
            env, "difficulty", "set", DAY.isoformat(), str(new), "--reason", "explorer misread the retarget"
        )
        assert code == 0, output
        assert f"replaced {DAY}: {old} → {new}" in output, output
        periods = await connection.fetchval(
            "SELECT count(*) FROM settlement_periods WHERE settlement_date = $1", DAY
        )
        assert f"recalculated by replay: {periods} periods" in output, output

        after = await day_rows(connection, DAY)
        assert {row[2:] for row in after["periods"]} == {("calculated", new)}
        models = {
            row["name"]: (row["hashrate_ths"], row["power_w"])
            for row in await connection.fetch(
                "SELECT name, hashrate_ths, power_w FROM miner_models WHERE active"
            )
        }
        expected_daily: dict[str, Decimal] = {}
        for calc in await connection.fetch(
            "SELECT * FROM bitcoin_calculations WHERE settlement_date = $1", DAY
        ):
            assert calc["difficulty"] == new
            btc = expected_btc(calc["energy_mwh"], *models[calc["miner_model"]], new)
            assert calc["btc"] == btc
            expected_daily[calc["miner_model"]] = expected_daily.get(calc["miner_model"], Decimal(0)) + btc
        assert {row[0]: row[1] for row in after["bitcoin_daily"]} == expected_daily
        assert {(row[3], row[4]) for row in after["bitcoin_daily"]} == {(new, new)}
        assert await day_rows(connection, OTHER_DAY) == before_other
        assert await rows(connection, "SELECT * FROM curtailment_records") == records_before
        audit = await connection.fetchrow("SELECT * FROM audit_log WHERE action = 'difficulty.correct'")
        assert (audit["target_type"], audit["target_id"]) == ("difficulty", DAY.isoformat())
        assert audit["actor"].startswith("cli:")
        assert json.loads(audit["before"]) == {"difficulty": str(old)}
        assert json.loads(audit["after"]) == {
            "difficulty": f"{new:.4f}",  # as stored, to the 4 decimals of its columns
            "reason": "explorer misread the retarget",
            "source": "cli:set",
        }

        # A price: only the day's fiat values change, to the penny of the day's BTC at the new price.
        price = await connection.fetchrow("SELECT gbp, usd FROM btc_prices WHERE price_date = $1", DAY)
        new_gbp = (price["gbp"] * Decimal("1.2")).quantize(Decimal("0.01"))
        code, output = await windhash(
            env, "prices", "set", DAY.isoformat(), "--gbp", str(new_gbp), "--reason", "quote was a day late"
        )
        assert code == 0, output
        priced = await day_rows(connection, DAY)
        for model, btc, *_, value_gbp, value_usd in priced["bitcoin_daily"]:
            assert btc == expected_daily[model]
            assert value_gbp == (btc * new_gbp).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
            assert value_usd == (btc * price["usd"]).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
        assert await day_rows(connection, OTHER_DAY) == before_other
        audit = await connection.fetchrow("SELECT * FROM audit_log WHERE action = 'prices.correct'")
        assert (audit["target_type"], audit["target_id"]) == ("btc_price", DAY.isoformat())
        assert json.loads(audit["before"])["gbp"] == str(price["gbp"])
        assert json.loads(audit["after"])["gbp"] == str(new_gbp)
        assert json.loads(audit["after"])["reason"] == "quote was a day late"
    finally:
        await connection.close()


async def test_an_implausible_correction_is_refused_and_changes_nothing(
    service_env: dict[str, str], pg_dsn: str
) -> None:
    with ElexonSimServer() as sim:
        await load_reference_data(reconcile_settings(sim))
    code, output = await windhash(
        service_env, "difficulty", "set", DAY.isoformat(), "0.5", "--reason", "typo"
    )
    assert code == 2, output
    assert "refused" in output and "outside the plausible" in output, output
    connection = await asyncpg.connect(pg_dsn)
    try:
        assert await connection.fetchval("SELECT count(*) FROM audit_log") == 0
    finally:
        await connection.close()


async def test_periods_refused_for_an_absurd_difficulty_fail_ingest_and_a_correction_brings_them_back(
    service_env: dict[str, str], pg_dsn: str
) -> None:
    env = {**service_env, "WINDHASH_DIFFICULTY_CACHE_SECONDS": "0"}
    with ElexonSimServer() as sim:
        settings = reconcile_settings(sim)
        await load_reference_data(settings)
        async with open_difficulty_store(settings.calculator) as store:
            good = await store.difficulty(DAY)
        assert good is not None
        await put_difficulty_unchecked(settings.calculator, DAY, "0.5")  # past every writer's bounds
        async with running_services(settings):
            report = await ingest_range(settings.ingestor, DAY, DAY)
            # Every period was fetched and published; the calculator, running meanwhile, may already have
            # refused some by the time the report is made (they then count as failed, with its reason).
            refusals = [failure.error or "" for failure in report.failures]
            assert all(error.startswith(REFUSED_BY_CALCULATOR) for error in refusals), refusals

            async def all_refused() -> bool:
                return bool(await pool_count(pg_dsn, "SELECT count(*) FROM unstorable_periods") == 48)

            await eventually(all_refused, "the calculator refusing the day's periods")
        code, output = await windhash(
            {**env, "WINDHASH_ELEXON_BASE_URL": sim.base_url}, "ingest", "date", str(DAY)
        )
    assert code == 1, output
    assert "48 period(s) failed" in output and "the calculator refused it" in output, output
    assert "windhash difficulty set" in output, output

    code, output = await windhash(
        env, "difficulty", "set", str(DAY), str(good), "--reason", "hand edit undone"
    )
    assert code == 0, output
    assert "recalculated by replay: 48 periods" in output, output
    assert await pool_count(pg_dsn, "SELECT count(*) FROM unstorable_periods") == 0
    assert (
        await pool_count(
            pg_dsn,
            "SELECT count(*) FROM settlement_periods WHERE settlement_date = $1 AND status = 'calculated'",
            DAY,
        )
        == 48
    )
    assert (
        await pool_count(
            pg_dsn, "SELECT count(DISTINCT miner_model) FROM bitcoin_daily WHERE settlement_date = $1", DAY
        )
        > 0
    )


async def pool_count(dsn: str, query: str, *args: object) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval(query, *args))
    finally:
        await connection.close()
