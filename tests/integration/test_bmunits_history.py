"""`windhash bmunits sync` keeps history matching the registry, with the real pipeline running (ingestor →
Kafka → calculator → PostgreSQL → aggregator) against the synthetic Elexon server:

- a wind unit the registry lacked when two days were ingested is added by the sync, and its past curtailment
  appears (records, calculations, summaries) without `--force`: exactly the records Elexon's stack holds for
  it, counted in the test from the simulator's own answers with the ingestor's rule;
- a unit Elexon stops listing stops counting from `--removed-from`: its records before that date are kept,
  from it on they are gone; it stays in the registry with `counts_until`;
- listed again, the unit counts again and the periods it missed are fetched again: its records from that
  date on are back, equal to what they were before the withdrawal;
- only the periods the change touched are published again, and each change is in the audit trail.
"""

import asyncio
import json
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import pytest
from test_reconcile_support import (  # type: ignore[import-not-found]
    PipelineSettings,
    eventually,
    ingest_through_pipeline,
    load_reference_data,
    pipeline_settled,
    reconcile_settings,
    running_services,
)
from windhash_common.db import create_pool
from windhash_common.settlement_calendar import dates_between, settlement_periods
from windhash_elexon_sim import ElexonSimServer
from windhash_ingestor.bm_unit_registry import packaged_wind_units, upsert_wind_units
from windhash_ingestor.curtailment_rule import curtailment_records, parse_stack_payload

pytestmark = pytest.mark.integration

FIRST, LAST = date(2024, 3, 2), date(2024, 3, 3)
WINDHASH = str(Path(sys.executable).with_name("windhash"))


@pytest.fixture
def sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer() as server:
        yield server


async def windhash(env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        WINDHASH,
        *args,
        env={**os.environ, **env, "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode == 0, output.decode()
    return output.decode()


async def elexon_wind_records(sim: ElexonSimServer) -> dict[tuple[date, str], list[tuple[int, Decimal]]]:
    """Per (date, unit), the period and volume of every wind curtailment record Elexon's stack holds (the
    ingestor's rule, the full registry)."""
    units = frozenset(unit.elexon_bm_unit for unit in packaged_wind_units())
    found: dict[tuple[date, str], list[tuple[int, Decimal]]] = defaultdict(list)
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        for day in dates_between(FIRST, LAST):
            for period in settlement_periods(day):
                body = (await client.get(f"/balancing/settlement/stack/all/bid/{day}/{period}")).content
                for record in curtailment_records(parse_stack_payload(body).rows, units, day, period):
                    found[(day, record.bm_unit)].append((period, record.volume_mwh))
    return found


def periods_with(
    found: dict[tuple[date, str], list[tuple[int, Decimal]]], unit: str, days: list[date]
) -> int:
    """How many settlement periods of `days` hold a record of `unit`."""
    return len({(day, period) for day in days for period, _ in found.get((day, unit), [])})


async def held(dsn: str, unit: str) -> dict[date, tuple[int, Decimal, int]]:
    """Per date: the unit's records, their volume, and their calculations."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT r.settlement_date, count(*) AS n, sum(r.volume_mwh) AS volume,"
            " (SELECT count(*) FROM bitcoin_calculations AS c WHERE c.bm_unit = $1"
            "   AND c.settlement_date = r.settlement_date) AS calculations"
            " FROM curtailment_records AS r WHERE r.bm_unit = $1 GROUP BY r.settlement_date",
            unit,
        )
        return {row["settlement_date"]: (row["n"], row["volume"], row["calculations"]) for row in rows}
    finally:
        await connection.close()


async def test_added_and_withdrawn_units_reshape_history(
    sim: ElexonSimServer, service_env: dict[str, str], pg_dsn: str
) -> None:
    settings: PipelineSettings = reconcile_settings(sim)
    await load_reference_data(settings)
    expected = await elexon_wind_records(sim)
    days = list(dates_between(FIRST, LAST))
    busiest: Counter[str] = Counter()
    for (_, unit), found in expected.items():
        if all((day, unit) in expected for day in days):  # curtailed on both days
            busiest[unit] += len(found)
    (added, _), (withdrawn, _) = busiest.most_common(2)
    pool = await create_pool(pg_dsn, min_size=1, max_size=2)
    try:
        units = [unit for unit in packaged_wind_units() if unit.elexon_bm_unit != added]
        await upsert_wind_units(pool, units)
        models = await pool.fetchval("SELECT count(*) FROM miner_models WHERE active")
    finally:
        await pool.close()
    await ingest_through_pipeline(settings, FIRST, LAST)
    assert await held(pg_dsn, added) == {}
    before = await held(pg_dsn, withdrawn)
    env = {**service_env, "WINDHASH_ELEXON_BASE_URL": sim.base_url}

    async with running_services(settings):
        output = await windhash(env, "bmunits", "sync")
        assert "1 new" in output, output
        # The added unit's periods changed and went out again; no other did.
        touched = len(
            {(day, period) for (day, unit), _ in expected.items() if unit == added for period in [0]}
        )
        assert touched and " changed and published" in output
        await eventually(lambda: pipeline_settled(pg_dsn, FIRST, LAST), "the pipeline after the sync")
        holding = await held(pg_dsn, added)
        for day in days:
            volumes = [volume for _, volume in expected[(day, added)]]
            assert holding[day] == (len(volumes), sum(volumes), len(volumes) * models)

        sim.withdraw_unit(withdrawn)
        output = await windhash(env, "bmunits", "sync", "--removed-from", LAST.isoformat())
        assert f"withdrawn from {LAST}: {withdrawn}" in output, output
        assert f"{periods_with(expected, withdrawn, [LAST])} changed and published" in output, output
        await eventually(lambda: pipeline_settled(pg_dsn, FIRST, LAST), "the pipeline after the withdrawal")
        after = await held(pg_dsn, withdrawn)
        assert after == {FIRST: before[FIRST]}  # kept before the date, gone from it on

        sim.list_unit_again(withdrawn)
        output = await windhash(env, "bmunits", "sync")
        assert f"listed again: {withdrawn} (it had stopped counting from {LAST})" in output, output
        assert f"{periods_with(expected, withdrawn, [LAST])} changed and published" in output, output
        await eventually(lambda: pipeline_settled(pg_dsn, FIRST, LAST), "the pipeline after the relisting")
        assert await held(pg_dsn, withdrawn) == before  # the gap is fetched again

    connection = await asyncpg.connect(pg_dsn)
    try:
        until = await connection.fetchval(
            "SELECT counts_until FROM wind_bm_units WHERE elexon_bm_unit = $1", withdrawn
        )
        assert until is None
        audit = await connection.fetch(
            "SELECT after FROM audit_log WHERE action = 'bmunits.sync' ORDER BY id"
        )
        assert len(audit) == 3
        assert json.loads(audit[2]["after"])["relisted"] == {withdrawn: LAST.isoformat()}
    finally:
        await connection.close()
