"""Wind output (FUELHH + AGWS) under the faults the synthetic Elexon server injects on those two endpoints,
over real HTTP into PostgreSQL: a day whose fetch fails keeps what it had and is recorded `day_failed`; a row
windhash cannot store is skipped, the rest of its day stored, and recorded `row_skipped`; both are listed in
`/api/v1/status` and counted in the ingestor's metrics; the day fetched whole again has no problem left. The
ingestor's follow mode fetches yesterday's and today's wind output in each cycle."""

from collections.abc import Iterator
from datetime import UTC, date, datetime

import asyncpg
import pytest
from prometheus_client import REGISTRY
from windhash_common.db import create_pool
from windhash_elexon_sim import ElexonSimServer
from windhash_elexon_sim.faults import FaultRule
from windhash_ingestor.elexon_client import ElexonClient
from windhash_ingestor.follow import follow_cycle
from windhash_ingestor.runtime import open_runtime
from windhash_ingestor.settings import IngestorSettings
from windhash_ingestor.wind_output import ingest_wind_output
from windhash_testing.api_status import api_status

pytestmark = pytest.mark.integration

FAILING, DAMAGED, WHOLE = date(2024, 3, 28), date(2024, 3, 29), date(2024, 3, 30)


@pytest.fixture
def sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer() as server:
        yield server


def settings_of(sim: ElexonSimServer, dsn: str) -> IngestorSettings:
    return IngestorSettings(
        elexon_base_url=sim.base_url,
        database_url=dsn,
        elexon_max_retries=1,
        elexon_backoff_initial_seconds=0.05,
        elexon_backoff_max_seconds=0.1,
        metrics_port=0,
    )


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def stored(dsn: str) -> tuple[dict[date, int], list[tuple[date, str, str]]]:
    connection = await asyncpg.connect(dsn)
    try:
        periods = await connection.fetch(
            "SELECT settlement_date, count(*) FROM wind_generation GROUP BY 1 ORDER BY 1"
        )
        problems = await connection.fetch(
            "SELECT settlement_date, kind, detail FROM wind_output_problems"
            " ORDER BY settlement_date, problem_no"
        )
        return {row[0]: row[1] for row in periods}, [tuple(row) for row in problems]
    finally:
        await connection.close()


async def fetch(settings: IngestorSettings, first: date, last: date) -> list[str]:
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        async with ElexonClient(settings) as client:
            return (await ingest_wind_output(client, pool, first, last)).failed
    finally:
        await pool.close()


async def test_failed_days_and_skipped_rows_are_recorded_shown_and_cleared(
    sim: ElexonSimServer, pg_dsn: str
) -> None:
    settings = settings_of(sim, pg_dsn)
    await fetch(settings, FAILING, WHOLE)  # a first fetch of every day, whole
    assert (await stored(pg_dsn)) == ({FAILING: 48, DAMAGED: 48, WHOLE: 48}, [])
    failed_days = counted("windhash_ingestor_wind_output_days_total", outcome="failed")
    skipped_rows = counted("windhash_ingestor_wind_output_rows_skipped_total")

    sim.add_fault(FaultRule(kind="status", status=500, endpoint="fuelhh", date=FAILING, times=None))
    sim.add_fault(FaultRule(kind="null_field", endpoint="wind_and_solar", date=DAMAGED, field="quantity"))
    sim.add_fault(FaultRule(kind="malformed", endpoint="wind_and_solar", date=WHOLE))
    failed = await fetch(settings, FAILING, WHOLE)
    assert [problem[:10] for problem in failed] == [str(FAILING), str(WHOLE)]

    periods, problems = await stored(pg_dsn)
    assert periods == {FAILING: 48, DAMAGED: 48, WHOLE: 48}  # what failed days held stays
    assert [(day, kind) for day, kind, _ in problems] == [
        (FAILING, "day_failed"),
        (DAMAGED, "row_skipped"),
        (WHOLE, "day_failed"),
    ]
    assert "500" in problems[0][2] and "AGWS" in problems[1][2]
    assert counted("windhash_ingestor_wind_output_days_total", outcome="failed") == failed_days + 2
    assert counted("windhash_ingestor_wind_output_rows_skipped_total") == skipped_rows + 1

    status = await api_status(pg_dsn)
    assert status["wind_output_problems_count"] == 3
    assert {(item["settlement_date"], item["kind"]) for item in status["wind_output_problems"]} == {
        (str(FAILING), "day_failed"),
        (str(DAMAGED), "row_skipped"),
        (str(WHOLE), "day_failed"),
    }

    sim.clear_faults()
    assert await fetch(settings, FAILING, WHOLE) == []
    assert (await stored(pg_dsn))[1] == []
    assert (await api_status(pg_dsn))["wind_output_problems_count"] == 0


async def test_each_follow_cycle_fetches_yesterdays_and_todays_wind_output(
    sim: ElexonSimServer, service_env: dict[str, str]
) -> None:
    settings = settings_of(sim, service_env["WINDHASH_DATABASE_URL"])
    now = datetime(2024, 3, 31, 0, 5, tzinfo=UTC)  # no period of the 31st has ended yet
    async with open_runtime(settings) as runtime:
        counts = await follow_cycle(runtime, now, check_revisions=False)
    assert counts["wind_output_days_failed"] == 0
    periods, problems = await stored(settings.database_url)
    assert set(periods) == {date(2024, 3, 30), date(2024, 3, 31)} and problems == []
