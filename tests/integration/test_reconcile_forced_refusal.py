"""Reconciliation's forced replay (`replay_apply.force_apply`) against PostgreSQL: a replayed snapshot whose
figures cannot be stored is refused and the period keeps the rows it had (its records, calculations and
snapshot row), recorded unstorable with the reason; one the stored row claims to be newer than is applied.
Before, the replay deleted the periods first and then let the write path refuse one, losing its rows."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from windhash_common.consumer_runtime.messages import ConsumedMessage
from windhash_common.db import create_pool
from windhash_reconciler.period_events import TopicEvent
from windhash_reconciler.replay_apply import force_apply
from windhash_reconciler.settings import ReconcilerSettings
from windhash_testing.curtailment_samples import period_snapshot, wind_record

pytestmark = pytest.mark.integration

DAY = date(2024, 4, 18)
FETCHED = datetime(2024, 4, 19, 12, tzinfo=UTC)
DIFFICULTY = {DAY: Decimal(86388558925171)}
ABSURD = {DAY: Decimal("0.5")}  # the BTC of any curtailed period at this difficulty overflows its column


def topic_event(fetched: datetime, acceptance_id: int, offset: int) -> TopicEvent:
    event = period_snapshot(DAY, 7, fetched, wind_record(acceptance_id, "-12.5", "-45.5", created_at=fetched))
    return TopicEvent(ConsumedMessage("settlement-periods", 0, offset, b"2024-04-18/07", None), event)


async def period_rows(connection: asyncpg.Connection) -> dict[str, list[Any]]:
    where = "WHERE settlement_date = $1 AND settlement_period = 7"
    return {
        table: [
            tuple(row)
            for row in await connection.fetch(f"SELECT {columns} FROM {table} {where} ORDER BY 1", DAY)
        ]
        for table, columns in (
            ("settlement_periods", "content_hash, fetched_at, status, difficulty"),
            ("curtailment_records", "acceptance_id, volume_mwh, cashflow_gbp"),
            ("bitcoin_calculations", "miner_model, acceptance_id, btc"),
        )
    }


async def test_a_forced_replay_refusing_a_period_keeps_its_rows(service_env: dict[str, str]) -> None:
    settings = ReconcilerSettings(metrics_port=0)
    pool = await create_pool(settings.database_url)
    try:
        await force_apply(pool, [topic_event(FETCHED, 1, 0)], settings, DIFFICULTY)
        async with pool.acquire() as connection:
            stored = await period_rows(connection)
        assert len(stored["curtailment_records"]) == 1 and stored["bitcoin_calculations"]

        refused = await force_apply(pool, [topic_event(FETCHED + timedelta(hours=1), 2, 1)], settings, ABSURD)
        assert refused.applied == {} and list(refused.refused) == [(DAY, 7)]
        async with pool.acquire() as connection:
            assert await period_rows(connection) == stored
            reason = await connection.fetchval(
                "SELECT reason FROM unstorable_periods WHERE settlement_date = $1 AND settlement_period = 7",
                DAY,
            )
        assert reason is not None and "would mine" in reason

        older = topic_event(FETCHED - timedelta(days=1), 3, 2)
        applied = await force_apply(pool, [older], settings, DIFFICULTY)
        assert applied.applied == {(DAY, 7): "calculated"}
        async with pool.acquire() as connection:
            replaced = await period_rows(connection)
            assert await connection.fetchval("SELECT count(*) FROM unstorable_periods") == 0
        assert [row[0] for row in replaced["curtailment_records"]] == [3]
        assert {row[1] for row in replaced["bitcoin_calculations"]} == {3}
        assert replaced["settlement_periods"][0][1] == older.event.fetched_at
    finally:
        await pool.close()
