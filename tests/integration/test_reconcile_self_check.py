"""The self-check: a period revised at Elexon is found, republished, applied and summarised; and of two
instances running at once, one does the work while the other skips."""

import asyncio
from collections.abc import Iterator
from datetime import date, timedelta

import asyncpg
import pytest
from prometheus_client import REGISTRY
from test_reconcile_support import (  # type: ignore[import-not-found]
    ingest_through_pipeline,
    load_reference_data,
    reconcile_settings,
)
from windhash_common.reconciliation.status_queries import reconciliation_status
from windhash_common.settlement_calendar import day_start_utc
from windhash_common.summaries.verify import verify_summaries
from windhash_elexon_sim import ElexonSimServer
from windhash_reconciler.self_check import locked_self_check, self_check

pytestmark = pytest.mark.integration

DAY = date(2024, 6, 12)
# The morning after DAY: with self_check_days=1 the self-check re-checks exactly DAY.
NEXT_MORNING = day_start_utc(DAY + timedelta(days=1)) + timedelta(hours=6)


@pytest.fixture
def sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer() as server:
        yield server


async def busiest_period(connection: asyncpg.Connection) -> tuple[int, str, int]:
    row = await connection.fetchrow(
        "SELECT settlement_period, content_hash, record_count FROM settlement_periods"
        " WHERE settlement_date = $1 ORDER BY record_count DESC, settlement_period LIMIT 1",
        DAY,
    )
    assert row is not None and row["record_count"] > 0
    return row[0], row[1], row[2]


async def test_a_revised_period_is_republished_applied_and_summarised(
    sim: ElexonSimServer, service_env: dict[str, str], pg_dsn: str
) -> None:
    settings = reconcile_settings(sim, self_check_days=1)
    await load_reference_data(settings)
    await ingest_through_pipeline(settings, DAY, DAY)
    connection = await asyncpg.connect(pg_dsn)
    try:
        period, old_hash, _ = await busiest_period(connection)
        old_daily = await connection.fetchrow(
            "SELECT * FROM curtailment_daily WHERE settlement_date = $1", DAY
        )
        sim.revise(DAY, period)

        report = await self_check(settings.reconciler, settings.refetcher, now=NEXT_MORNING)

        assert report.republished == [(DAY, period)]
        assert report.fetch_outcomes == {"unchanged": 47, "published": 1}
        assert report.window_repair is not None and list(report.window_repair.replayed) == [(DAY, period)]
        stored = await connection.fetchrow(
            "SELECT s.content_hash, p.content_hash AS published FROM settlement_periods s"
            " JOIN ingestion_progress p USING (settlement_date, settlement_period)"
            " WHERE settlement_date = $1 AND settlement_period = $2",
            DAY,
            period,
        )
        assert stored is not None and stored["content_hash"] == stored["published"] != old_hash
        new_daily = await connection.fetchrow(
            "SELECT * FROM curtailment_daily WHERE settlement_date = $1", DAY
        )
        assert new_daily is not None and old_daily is not None
        assert (new_daily["energy_mwh"], new_daily["record_count"]) != (
            old_daily["energy_mwh"],
            old_daily["record_count"],
        )
        assert await verify_summaries(connection) == []  # the day, its month and year follow the facts
        status = await reconciliation_status(connection, DAY, DAY, now=NEXT_MORNING)
        assert status.completeness_ratio == 1.0
    finally:
        await connection.close()
    gauge = REGISTRY.get_sample_value("windhash_reconciliation_completeness_ratio", {"window": "recent"})
    assert gauge == 1.0

    again = await self_check(
        settings.reconciler, settings.refetcher, now=NEXT_MORNING
    )  # nothing changed since: nothing to do
    assert again.republished == [] and again.window_repair is None


async def test_only_one_of_two_concurrent_self_checks_does_the_work(
    sim: ElexonSimServer, service_env: dict[str, str], pg_dsn: str
) -> None:
    settings = reconcile_settings(sim, self_check_days=1)
    await load_reference_data(settings)
    await ingest_through_pipeline(settings, DAY, DAY)
    stack_requests = sim.state.served().get("stack", 0)
    holder_locked, other_finished = asyncio.Event(), asyncio.Event()

    async def hold_until_the_other_has_tried() -> None:
        holder_locked.set()
        await other_finished.wait()

    holder = asyncio.create_task(
        locked_self_check(
            settings.reconciler, settings.refetcher, NEXT_MORNING, while_locked=hold_until_the_other_has_tried
        )
    )
    await holder_locked.wait()
    other = await locked_self_check(settings.reconciler, settings.refetcher, NEXT_MORNING)
    other_finished.set()
    held = await holder

    assert held.ran and held.report is not None
    assert not other.ran and other.report is None
    assert held.report.fetch_outcomes == {"unchanged": 48}
    # Elexon was asked for each period of the day once, by the one instance that worked: not twice.
    assert sim.state.served()["stack"] - stack_requests == 48
    # The lock went with the holder: the next instance to try gets it.
    assert (await locked_self_check(settings.reconciler, settings.refetcher, NEXT_MORNING)).ran
