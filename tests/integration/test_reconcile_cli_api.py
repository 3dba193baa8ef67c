"""`windhash reconcile analyze|status|date` as an operator runs them, and GET /api/v1/reconciliation.

Elexon serves a malformed stack for one period, so the ingestor dead-letters it and records a failed fetch;
analyze names both reasons; once Elexon serves it again, `reconcile date` re-fetches just that period (the
topic holds every other) and the day is complete, in the CLI and in the API alike.
"""

import asyncio
import os
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import asyncpg
import httpx
import pytest
from test_reconcile_support import (  # type: ignore[import-not-found]
    PipelineSettings,
    eventually,
    load_reference_data,
    reconcile_settings,
    running_services,
)
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_cli.pipeline_completion import pipeline_progress
from windhash_common.db import create_pool
from windhash_elexon_sim import ElexonSimServer, FaultRule
from windhash_ingestor.backfill import ingest_range

pytestmark = pytest.mark.integration

DAY = date(2024, 6, 12)
BROKEN_PERIOD = 5
WINDHASH = str(Path(sys.executable).with_name("windhash"))


@pytest.fixture
def sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer() as server:
        yield server


async def windhash(env: dict[str, str], *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        WINDHASH,
        *args,
        env={**os.environ, **env, "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def caught_up(dsn: str) -> bool:
    connection = await asyncpg.connect(dsn)
    try:
        progress = await pipeline_progress(connection, DAY, DAY)
        return (
            progress.periods_calculated == progress.periods_ingested == 47
            and progress.outbox_backlog == 0
            and progress.days_summarised == progress.days_with_records
        )
    finally:
        await connection.close()


async def ingest_with_one_malformed_period(settings: PipelineSettings, sim: ElexonSimServer) -> None:
    sim.add_fault(FaultRule(kind="malformed", date=DAY, period=BROKEN_PERIOD))
    async with running_services(settings):
        report = await ingest_range(settings.ingestor, DAY, DAY)
        assert [(failure.settlement_period) for failure in report.failures] == [BROKEN_PERIOD]
        await eventually(lambda: caught_up(settings.database_url), "the pipeline")
    sim.clear_faults()


async def api_reconciliation(dsn: str, query: str) -> httpx.Response:
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        app = create_app(ApiSettings(database_url=dsn, migrate_on_start=False), pool=pool)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await client.get(f"/api/v1/reconciliation{query}")
    finally:
        await pool.close()


async def test_analyze_names_the_gaps_and_reconcile_date_closes_them(
    sim: ElexonSimServer, service_env: dict[str, str], pg_dsn: str
) -> None:
    settings = reconcile_settings(sim)
    await load_reference_data(settings)
    await ingest_with_one_malformed_period(settings, sim)
    env = {**service_env, "WINDHASH_ELEXON_BASE_URL": sim.base_url}

    code, output = await windhash(env, "reconcile", "analyze")
    assert code == 0, output
    assert "failed fetch" in output and "invalid payload" in output
    assert "dead-lettered event" in output and "ingestor" in output
    code, output = await windhash(env, "reconcile", "status")
    assert code == 0 and "0/1 days complete" in output, output
    response = await api_reconciliation(pg_dsn, f"?from={DAY}&to={DAY}")
    assert response.status_code == 200
    day = response.json()["days"][0]
    assert (day["day_class"], day["periods_fetched"], day["periods_failed"]) == ("partial", 47, 1)

    code, output = await windhash(env, "reconcile", "date", DAY.isoformat())
    assert code == 0, output
    assert "re-fetched 1 periods from Elexon (0 failed)" in output, output
    assert "after:  1/1 days complete (100.0%)" in output, output

    code, output = await windhash(env, "reconcile", "status", "--all-days")
    assert code == 0 and "1/1 days complete (100.0%)" in output, output
    response = await api_reconciliation(pg_dsn, "")
    assert response.json()["completeness_ratio"] == 1.0
    assert response.json()["days"][0]["periods_fetched"] == 48
    bad = await api_reconciliation(pg_dsn, f"?from={DAY}&to=2024-06-01")
    assert bad.status_code == 422 and "after" in bad.json()["error"]["message"]
