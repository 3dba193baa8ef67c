"""The curtailed share of wind output and the CO₂ estimate, end to end: `windhash ingest wind-output` fetches
Elexon's FUELHH and AGWS wind from the synthetic server over HTTP (its real paths and JSON shapes) into
wind_generation, and GET /api/v1/wind-share and /api/v1/co2-avoided divide the sample's curtailment by it,
each figure recomputed in the test from the simulator's own generator and the fact table."""

import asyncio
import os
import sys
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import pytest
from test_api_support import SPRING, read_facts, same  # type: ignore[import-not-found]
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_common.db import create_pool
from windhash_common.settlement_calendar import settlement_periods
from windhash_elexon_sim import ElexonSimServer
from windhash_elexon_sim.generation import wind_mw
from windhash_testing.sample_dataset import load_sample

pytestmark = pytest.mark.integration

WINDHASH = str(Path(sys.executable).with_name("windhash"))
DAYS = SPRING[1:3]  # 2024-03-30 (48 periods) and 2024-03-31 (46)


@pytest.fixture
def sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer() as server:
        yield server


async def windhash(env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        WINDHASH,
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, output.decode()
    return output.decode()


def share(curtailed: Decimal, output_mwh: Decimal) -> Decimal:
    return curtailed / (output_mwh + curtailed)


async def test_wind_output_is_fetched_and_the_share_and_co2_follow(sim: ElexonSimServer, pg_dsn: str) -> None:
    connection = await asyncpg.connect(pg_dsn)
    try:
        await load_sample(connection, DAYS)
        facts = await read_facts(connection)
    finally:
        await connection.close()
    env = {"WINDHASH_DATABASE_URL": pg_dsn, "WINDHASH_ELEXON_BASE_URL": sim.base_url}
    output = await windhash(env, "ingest", "wind-output", "--from", str(DAYS[0]), "--to", str(DAYS[-1]))
    assert "94 periods of wind output stored over 2 days" in output, output

    seed = sim.state.seed
    connection = await asyncpg.connect(pg_dsn)
    try:
        stored = {
            (row["settlement_date"], row["settlement_period"]): row
            for row in await connection.fetch("SELECT * FROM wind_generation")
        }
    finally:
        await connection.close()
    metered: dict[tuple[date, int], Decimal] = {}
    for day in DAYS:
        for period in settlement_periods(day):
            offshore, onshore = wind_mw(seed, day, period)
            row = stored[(day, period)]
            assert (row["offshore_wind_mw"], row["onshore_wind_mw"]) == (
                Decimal(str(offshore)),
                Decimal(str(onshore)),
            )
            assert row["metered_wind_mw"] == round(offshore + onshore) and row["synthetic"] is True
            metered[(day, period)] = row["metered_wind_mw"] / 2
    curtailed: dict[tuple[date, int], Decimal] = defaultdict(Decimal)
    for record in facts.records:
        curtailed[(record["settlement_date"], record["settlement_period"])] += -record["volume_mwh"]

    pool = await create_pool(pg_dsn, min_size=1, max_size=2)
    settings = ApiSettings(database_url=pg_dsn, migrate_on_start=False, gas_emissions_t_per_mwh=0.4)
    try:
        transport = httpx.ASGITransport(app=create_app(settings, pool=pool))
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            day = DAYS[1]
            body = (await client.get(f"/api/v1/wind-share/daily/{day}")).json()
            assert body["by"] == "period" and len(body["points"]) == 46
            for point in body["points"]:
                period = int(point["key"].split("/")[1])
                energy = curtailed.get((day, period), Decimal(0))
                assert same(point["curtailed_mwh"], energy)
                assert same(point["metered_wind_mwh"], metered[(day, period)])
                assert same(
                    point["curtailed_share_of_metered"],
                    share(energy, metered[(day, period)]).quantize(Decimal("0.000001")),
                )
            span = f"range/{DAYS[0]}..{DAYS[-1]}"
            total = (await client.get(f"/api/v1/wind-share/{span}?by=day")).json()["total"]
            all_curtailed, all_metered = (
                sum(curtailed.values(), Decimal(0)),
                sum(metered.values(), Decimal(0)),
            )
            assert same(total["curtailed_mwh"], all_curtailed)
            assert same(
                total["curtailed_share_of_metered"],
                share(all_curtailed, all_metered).quantize(Decimal("0.000001")),
            )
            assert total["periods_with_output"] == 94

            co2 = (await client.get(f"/api/v1/co2-avoided/{span}?by=day")).json()
            assert co2["estimate"] is True and co2["emissions_factor_t_per_mwh"] == 0.4
            assert co2["method"] == "docs/CONTEXT_FIGURES.md"
            assert same(
                co2["total"]["co2_avoided_t"], (all_curtailed * Decimal("0.4")).quantize(Decimal("0.001"))
            )
            assert [point["key"] for point in co2["points"]] == [str(day) for day in DAYS]
            csv_answer = await client.get(f"/api/v1/wind-share/{span}?by=day&format=csv")
            assert csv_answer.status_code == 200 and "curtailed_share_of_metered" in csv_answer.text
    finally:
        await pool.close()
