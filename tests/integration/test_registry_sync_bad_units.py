"""`windhash bmunits sync` against a reference answer holding bad units among good ones (a NaN, negative or
absurd capacity, a NUL or a control character in an id or a name): each bad unit is skipped with its reason,
every good one is stored, the command says so and exits 1, and the API serves the registry without a 500.
Hypothesis draws the bad units."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_common.db import create_pool
from windhash_elexon_sim import ElexonSimServer, FaultRule

pytestmark = pytest.mark.integration

WINDHASH = str(Path(sys.executable).with_name("windhash"))
GOOD = [
    {"elexonBmUnit": f"T_GOOD-{n}", "nationalGridBmUnit": f"GOOD-{n}", "fuelType": "WIND",
     "bmUnitName": f"Good farm {n}", "leadPartyName": "Good Wind Ltd", "generationCapacity": str(100 + n)}
    for n in range(3)
]  # fmt: skip
BAD_CAPACITIES = st.sampled_from(
    ["NaN", "nan", "Infinity", "-Infinity", "-5", "1e20", "99999999", "x", "1e999"]
)
BAD_TEXT = st.sampled_from(["\x00", "\x1b[31m", "\u202e", "\n", "\x7f", "\x85"])


@st.composite
def bad_units(draw: st.DrawFn) -> dict[str, Any]:
    unit = {"elexonBmUnit": "T_BAD-1", "fuelType": "WIND", "bmUnitName": "Bad farm"}
    unit["generationCapacity"] = "50"
    field = draw(st.sampled_from(["generationCapacity", "elexonBmUnit", "bmUnitName", "leadPartyName"]))
    if field == "generationCapacity":
        unit[field] = draw(BAD_CAPACITIES)
    else:
        unit[field] = "T_BAD" + draw(BAD_TEXT) + "1"
    return unit


@pytest.fixture(scope="module")
def sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer() as server:
        yield server


def sync(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [WINDHASH, "bmunits", "sync"], env=env, capture_output=True, text=True, timeout=300, check=False
    )


async def _stored(dsn: str) -> dict[str, Any]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT elexon_bm_unit, generation_capacity_mw FROM wind_bm_units")
    finally:
        await connection.close()
    return {row[0]: row[1] for row in rows}


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(bad=bad_units(), position=st.integers(0, 3))
async def test_a_bad_unit_is_skipped_with_its_reason_and_the_rest_applies(
    service_env: dict[str, str], sim: ElexonSimServer, bad: dict[str, Any], position: int
) -> None:
    units = [*GOOD[:position], bad, *GOOD[position:]]
    sim.clear_faults()
    sim.add_fault(FaultRule(kind="payload", endpoint="bmunits", body=json.dumps(units).encode()))
    env = {**os.environ, "WINDHASH_ELEXON_BASE_URL": sim.base_url, "COLUMNS": "200"}
    done = await asyncio.to_thread(sync, env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "skipped" in done.stdout + done.stderr
    stored = await _stored(service_env["WINDHASH_DATABASE_URL"])
    assert {unit["elexonBmUnit"] for unit in GOOD} <= set(stored)
    assert not any(name.startswith("T_BAD") for name in stored), "the bad unit is not stored"
    pool = await create_pool(service_env["WINDHASH_DATABASE_URL"], min_size=1, max_size=2)
    try:
        app = create_app(ApiSettings(migrate_on_start=False), pool=pool)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://windhash.test") as client:
            for path in ("/api/v1/bm-units?limit=500", "/api/v1/lead-parties", "/api/v1/bm-units?format=csv"):
                assert (await client.get(path)).status_code == 200, path
    finally:
        await pool.close()


async def test_a_capacity_no_unit_can_have_is_refused_by_the_database_too(
    service_env: dict[str, str],
) -> None:
    connection = await asyncpg.connect(service_env["WINDHASH_DATABASE_URL"])
    try:
        for capacity in ("NaN", "-1"):
            with pytest.raises(asyncpg.CheckViolationError):
                await connection.execute(
                    "INSERT INTO wind_bm_units (elexon_bm_unit, generation_capacity_mw, first_seen,"
                    " last_seen) VALUES ('T_CHECK-1', $1::numeric, now(), now())",
                    capacity,
                )
    finally:
        await connection.close()
