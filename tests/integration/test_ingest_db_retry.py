"""`ingest range` through a lost PostgreSQL connection: the progress write whose connection is cut (as by a
restart) is retried on a fresh pool connection and the run ends with every period recorded ok."""

import asyncio
from collections.abc import Iterator
from datetime import date

import asyncpg
import pytest
from test_db_fault_support import WAIT_SECONDS, terminate_lock_waiters  # type: ignore[import-not-found]
from windhash_elexon_sim import ElexonSimServer
from windhash_ingestor.backfill import ingest_range
from windhash_ingestor.settings import IngestorSettings

pytestmark = pytest.mark.integration

DAY = date(2024, 1, 5)  # 48 settlement periods
HELD_PERIOD = 5


@pytest.fixture
def sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer() as server:
        yield server


async def test_a_progress_write_cut_mid_run_is_retried_and_the_run_completes(
    service_env: dict[str, str], pg_dsn: str, sim: ElexonSimServer
) -> None:
    settings = IngestorSettings(elexon_base_url=sim.base_url, ingestor_db_backoff_seconds=0.2)
    connection = await asyncpg.connect(pg_dsn)
    blocker = await asyncpg.connect(pg_dsn)
    try:
        # Hold one period's progress row so the run's write for it waits, then cut that connection.
        await connection.execute(
            "INSERT INTO ingestion_progress (settlement_date, settlement_period, status, error, attempts)"
            " VALUES ($1, $2, 'failed', 'an earlier run', 1)",
            DAY,
            HELD_PERIOD,
        )
        holding = blocker.transaction()
        await holding.start()
        await blocker.execute(
            "SELECT * FROM ingestion_progress"
            " WHERE settlement_date = $1 AND settlement_period = $2 FOR UPDATE",
            DAY,
            HELD_PERIOD,
        )
        run = asyncio.create_task(ingest_range(settings, DAY, DAY))
        assert await terminate_lock_waiters(connection) >= 1
        await holding.rollback()

        report = await asyncio.wait_for(run, WAIT_SECONDS)

        assert report.succeeded
        assert report.days[0].published == 48
        statuses = await connection.fetch(
            "SELECT status, count(*) FROM ingestion_progress WHERE settlement_date = $1 GROUP BY status", DAY
        )
        assert [(row["status"], row["count"]) for row in statuses] == [("ok", 48)]
    finally:
        await blocker.close()
        await connection.close()
