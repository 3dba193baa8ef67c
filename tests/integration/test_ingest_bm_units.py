"""The wind BM unit registry in PostgreSQL: seeded from the packaged snapshot, synced from the reference."""

from collections.abc import Iterator

import asyncpg
import pytest
from windhash_common.db import create_pool
from windhash_elexon_sim import ElexonSimServer, FaultRule
from windhash_ingestor.bm_unit_registry import (
    ReferenceDataError,
    seed_if_empty,
    upsert_wind_units,
    wind_unit_ids,
    wind_units_from_reference_body,
)
from windhash_ingestor.elexon_client import ElexonClient
from windhash_ingestor.settings import IngestorSettings

pytestmark = pytest.mark.integration


@pytest.fixture
def sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer() as server:
        yield server


async def test_seed_then_sync_keeps_first_seen_and_moves_last_seen(pg_dsn: str, sim: ElexonSimServer) -> None:
    pool = await create_pool(pg_dsn)
    try:
        seeded = await seed_if_empty(pool)
        assert (seeded.units, seeded.added) == (212, 212)
        assert (await seed_if_empty(pool)).units == 0  # a registry with units is left alone
        before = {row["elexon_bm_unit"]: row for row in await pool.fetch("SELECT * FROM wind_bm_units")}

        async with ElexonClient(IngestorSettings(elexon_base_url=sim.base_url)) as client:
            response = await client.bm_units()
        units = wind_units_from_reference_body(response.body)
        synced = await upsert_wind_units(pool, units)
        assert (synced.units, synced.added) == (212, 0)  # the non-wind units of the reference are left out

        after = {row["elexon_bm_unit"]: row for row in await pool.fetch("SELECT * FROM wind_bm_units")}
        assert set(after) == set(before) == await wind_unit_ids(pool)
        assert "T_DRAXX-1" not in after
        assert all(after[unit]["first_seen"] == before[unit]["first_seen"] for unit in after)
        assert all(after[unit]["last_seen"] > before[unit]["last_seen"] for unit in after)
        whitelee = after["T_WHILW-1"]
        assert (whitelee["lead_party_name"], float(whitelee["generation_capacity_mw"])) == (
            "SP Renewables (UK) Limited",
            309.0,
        )
    finally:
        await pool.close()


async def test_a_broken_reference_response_is_refused(pg_dsn: str, sim: ElexonSimServer) -> None:
    sim.add_fault(FaultRule(kind="malformed", endpoint="bmunits"))
    async with ElexonClient(IngestorSettings(elexon_base_url=sim.base_url)) as client:
        response = await client.bm_units()
    with pytest.raises(ReferenceDataError, match="malformed"):
        wind_units_from_reference_body(response.body)
    connection = await asyncpg.connect(pg_dsn)
    try:
        assert await connection.fetchval("SELECT count(*) FROM wind_bm_units") == 0
    finally:
        await connection.close()
