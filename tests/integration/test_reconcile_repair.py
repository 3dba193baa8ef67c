"""`windhash reconcile`: a few days through the real pipeline, then damage, then repair by topic replay.

The database is snapshotted after an undisturbed run; random records, calculations and summary rows are
deleted and others tampered with (a period's snapshot made to look newer than the topic's, a model's whole
history removed as if it had just been added); the repair must bring every table back equal, row for row,
and status must then report every day complete. Deleting by hand cascades nothing (migration 0600): the
damage leaves calculations without their record and a period's records without their period, which
`verify_facts` reports and the repair removes.
"""

import random
from collections.abc import Iterator
from datetime import date

import asyncpg
import pytest
from test_reconcile_support import (  # type: ignore[import-not-found]
    ingest_through_pipeline,
    load_reference_data,
    reconcile_settings,
    snapshot,
)
from windhash_common.reconciliation.status_queries import reconciliation_status
from windhash_common.summaries.verify import verify_facts
from windhash_elexon_sim import ElexonSimServer
from windhash_reconciler.repair import RepairScope, repair

pytestmark = pytest.mark.integration

FIRST, LAST = date(2024, 3, 30), date(2024, 3, 31)  # 48 + 46 periods (spring clock change)


@pytest.fixture
def sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer() as server:
        yield server


async def damage(connection: asyncpg.Connection, rng: random.Random) -> None:
    async def some(sql: str, share: float) -> list[asyncpg.Record]:
        rows = await connection.fetch(sql)
        return rng.sample(list(rows), max(1, int(len(rows) * share)))

    records = await some("SELECT settlement_date d, settlement_period p, bm_unit u, acceptance_id a,"
                         " bid_offer_pair_id b FROM curtailment_records", 0.15)  # fmt: skip
    for row in records[: len(records) // 2]:
        await connection.execute(
            "DELETE FROM curtailment_records WHERE settlement_date = $1 AND settlement_period = $2"
            " AND bm_unit = $3 AND acceptance_id = $4 AND bid_offer_pair_id = $5",
            *row,
        )
    for row in records[len(records) // 2 :]:
        await connection.execute(
            "UPDATE curtailment_records SET volume_mwh = volume_mwh * 2, cashflow_gbp = cashflow_gbp + 1"
            " WHERE settlement_date = $1 AND settlement_period = $2 AND bm_unit = $3 AND acceptance_id = $4"
            " AND bid_offer_pair_id = $5",
            *row,
        )
    await connection.execute(
        "DELETE FROM bitcoin_calculations WHERE ctid IN"
        " (SELECT ctid FROM bitcoin_calculations ORDER BY random() LIMIT 200)"
    )
    await connection.execute(
        "UPDATE bitcoin_calculations SET btc = btc + 0.00000001 WHERE ctid IN"
        " (SELECT ctid FROM bitcoin_calculations ORDER BY random() LIMIT 100)"
    )
    # A newly added model: no calculations at all yet.
    await connection.execute("DELETE FROM bitcoin_calculations WHERE miner_model = 'S21_XP'")
    # A period whose snapshot claims to be newer than anything in the topic, and one deleted outright.
    await connection.execute(
        "UPDATE settlement_periods SET fetched_at = fetched_at + interval '1 day', content_hash = 'x'"
        " WHERE settlement_date = $1 AND settlement_period = 10",
        FIRST,
    )
    await connection.execute(
        "DELETE FROM settlement_periods WHERE settlement_date = $1 AND settlement_period = 20", LAST
    )
    await connection.execute("DELETE FROM curtailment_daily WHERE settlement_date = $1", FIRST)
    await connection.execute("UPDATE curtailment_daily SET energy_mwh = energy_mwh + 5")
    await connection.execute("DELETE FROM bitcoin_daily WHERE miner_model = 'S9'")
    await connection.execute("UPDATE bitcoin_monthly SET btc = btc * 2 WHERE miner_model = 'S21'")
    await connection.execute(
        "DELETE FROM bm_unit_daily WHERE ctid IN (SELECT ctid FROM bm_unit_daily LIMIT 5)"
    )
    await connection.execute("UPDATE lead_party_daily SET record_count = record_count + 1")
    await connection.execute("DELETE FROM curtailment_yearly")


async def test_reconcile_all_restores_every_row_and_reports_complete(
    sim: ElexonSimServer, service_env: dict[str, str], pg_dsn: str
) -> None:
    settings = reconcile_settings(sim)
    await load_reference_data(settings)
    await ingest_through_pipeline(settings, FIRST, LAST)
    undisturbed = await snapshot(pg_dsn)
    assert len(undisturbed["curtailment_records"]) > 100

    connection = await asyncpg.connect(pg_dsn)
    try:
        await damage(connection, random.Random(7))
        damaged = await reconciliation_status(connection, FIRST, LAST)
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            broken = {(item.table, item.kind) for item in await verify_facts(connection, FIRST, LAST)}
    finally:
        await connection.close()
    assert damaged.completeness_ratio == 0.0
    assert broken == {
        ("bitcoin_calculations", "unexpected"),  # without their record, or in the period deleted
        ("bitcoin_calculations", "missing"),  # S21_XP, and the 200 deleted at random
        ("curtailment_records", "unexpected"),  # of the period deleted
    }
    assert await snapshot(pg_dsn) != undisturbed

    report = await repair(settings.reconciler, RepairScope(), settings.refetcher)
    assert report is not None
    assert (report.first, report.last) == (FIRST, LAST)
    assert report.refetched == []  # the topic held every period: nothing was fetched from Elexon again
    assert report.replayed
    assert report.after.completeness_ratio == 1.0
    assert [day.day_class for day in report.after.days] == ["complete", "complete"]

    repaired = await snapshot(pg_dsn)
    for table, rows in undisturbed.items():
        assert repaired[table] == rows, f"{table} differs after the repair"
    connection = await asyncpg.connect(pg_dsn)
    try:
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            assert await verify_facts(connection, FIRST, LAST) == []
    finally:
        await connection.close()

    again = await repair(
        settings.reconciler, RepairScope(), settings.refetcher
    )  # idempotent: nothing left to do
    assert again is not None
    assert again.replayed == {}
    assert again.summaries is not None and again.summaries.days == ()
    assert await snapshot(pg_dsn) == undisturbed
