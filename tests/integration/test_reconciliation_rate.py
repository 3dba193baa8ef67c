"""The predecessor's reconciliation rate (calculations present ÷ records × active models), overall and per
model, next to the day-completeness: in `windhash reconcile rate [--csv]`, `reconcile status` and
GET /api/v1/reconciliation, over PostgreSQL filled with the sample (two periods await their difficulty, and
one calculation is then deleted), each figure counted in the test from the fact tables."""

import asyncio
import csv
import io
import os
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest
from test_api_support import AUTUMN, FAILED, NO_PRICE_DAY, PENDING, SPRING  # type: ignore[import-not-found]
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_common.db import create_pool
from windhash_testing.sample_dataset import load_sample

pytestmark = pytest.mark.integration

WINDHASH = str(Path(sys.executable).with_name("windhash"))
FIRST, LAST = SPRING[0], AUTUMN[-1]


async def windhash(dsn: str, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        WINDHASH,
        *args,
        env={**os.environ, "WINDHASH_DATABASE_URL": dsn, "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return output.decode()


async def _expected(connection: asyncpg.Connection) -> tuple[int, int, dict[str, int]]:
    records = await connection.fetchval("SELECT count(*) FROM curtailment_records")
    pending = await connection.fetchval(
        "SELECT count(*) FROM curtailment_records JOIN settlement_periods USING (settlement_date,"
        " settlement_period) WHERE status = 'pending_difficulty'"
    )
    models = [row["name"] for row in await connection.fetch("SELECT name FROM miner_models WHERE active")]
    present = {
        name: await connection.fetchval(
            "SELECT count(*) FROM bitcoin_calculations WHERE miner_model = $1", name
        )
        for name in models
    }
    return records, pending, present


async def test_the_rate_counts_calculations_against_records_times_models(pg_dsn: str) -> None:
    connection = await asyncpg.connect(pg_dsn)
    try:
        await load_sample(
            connection,
            SPRING + AUTUMN,
            days_without_price=[NO_PRICE_DAY],
            pending_periods=PENDING,
            failed_periods=FAILED,
        )
        await connection.execute(
            "DELETE FROM bitcoin_calculations WHERE ctid = (SELECT ctid FROM bitcoin_calculations"
            " WHERE miner_model = 'S9' LIMIT 1)"
        )
        records, pending, present = await _expected(connection)
    finally:
        await connection.close()
    assert pending > 0 and len(present) >= 2
    expected_rate = sum(present.values()) / (records * len(present))
    assert expected_rate < 1.0

    rows = list(csv.DictReader(io.StringIO(await windhash(pg_dsn, "reconcile", "rate", "--csv"))))
    assert [row["miner_model"] for row in rows] == ["all", *sorted(present)]
    overall = rows[0]
    assert int(overall["records"]) == records
    assert int(overall["records_pending_difficulty"]) == pending
    assert int(overall["calculations_expected"]) == records * len(present)
    assert int(overall["calculations_present"]) == sum(present.values())
    assert float(overall["reconciliation_rate"]) == pytest.approx(expected_rate)
    for row in rows[1:]:
        assert int(row["calculations_present"]) == present[row["miner_model"]]
        assert float(row["reconciliation_rate"]) == pytest.approx(present[row["miner_model"]] / records)
    days = (LAST - FIRST).days + 1  # every date between the first and the last with data
    assert int(overall["days"]) == days
    assert 0 <= int(overall["complete_days"]) < days  # pending, failed and a deleted calculation

    table = await windhash(pg_dsn, "reconcile", "rate")
    assert f"{expected_rate:.2%}" in table
    status = await windhash(pg_dsn, "reconcile", "status")
    assert f"calculations {sum(present.values())}/{records * len(present)}" in status
    status_csv = list(csv.DictReader(io.StringIO(await windhash(pg_dsn, "reconcile", "status", "--csv"))))
    assert len(status_csv) == days

    pool = await create_pool(pg_dsn, min_size=1, max_size=2)
    try:
        app = create_app(ApiSettings(database_url=pg_dsn, migrate_on_start=False), pool=pool)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            body = (await client.get(f"/api/v1/reconciliation?from={FIRST}&to={LAST}")).json()
    finally:
        await pool.close()
    rate = body["calculation_rate"]
    assert (rate["records"], rate["calculations_present"]) == (records, sum(present.values()))
    assert rate["rate"] == pytest.approx(expected_rate)
    assert {model["miner_model"]: model["calculations_present"] for model in rate["models"]} == present
    assert str(body["complete_days"]) == overall["complete_days"]
