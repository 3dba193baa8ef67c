"""One settlement day through the whole system, each service its own OS process:
synthetic Elexon → ingestor → Kafka → calculator → PostgreSQL → outbox → Kafka → aggregator → API over HTTP.

The expected figures are computed here, independently of windhash's code, from the raw JSON the Elexon server
serves and the bitcoin formula written out by hand."""

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import pytest
from windhash_cli.pipeline_completion import pipeline_progress
from windhash_cli.service_processes import WINDHASH, ServiceProcesses, wait_for_http
from windhash_elexon_sim.server import ElexonSimServer
from windhash_stack.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

DAY = date(2024, 3, 31)  # the spring clock change: 46 periods
DATA = Path(__file__).parents[2] / "libs/common/windhash_common/data"
WIND_UNITS_FILE = DATA / "wind_bmu_units.json"
DIFFICULTY_FILE = DATA / "bitcoin_difficulty_2024.json"


@pytest.fixture
def sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer() as server:
        yield server


def expected_from_elexon(base_url: str, day: date) -> tuple[int, Decimal, Decimal]:
    """Records, MWh and cashflow straight from the served JSON: wind unit, bid stack, soFlag, volume < 0."""
    wind = {unit["elexonBmUnit"] for unit in json.loads(WIND_UNITS_FILE.read_text())}
    records, energy, cashflow = 0, Decimal(0), Decimal(0)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for period in range(1, 47):
            rows = client.get(f"/balancing/settlement/stack/all/bid/{day}/{period}").json()["data"]
            for row in rows:
                if row["id"] in wind and row["soFlag"] and row["volume"] < 0:
                    records += 1
                    volume = Decimal(str(row["volume"]))
                    energy -= volume
                    cashflow += volume * Decimal(str(row["originalPrice"]))
    return records, energy, cashflow


async def wait_until_complete(dsn: str, processes: ServiceProcesses, seconds: float = 240) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            processes.check_alive()
            progress = await pipeline_progress(connection, DAY, DAY)
            if progress.complete and progress.periods_calculated == 46:
                return
            assert asyncio.get_running_loop().time() < deadline, f"pipeline stuck: {progress}"
            await asyncio.sleep(0.5)
    finally:
        await connection.close()


def test_one_day_flows_from_elexon_to_the_api(
    sim: ElexonSimServer, service_env: dict[str, str], pg_dsn: str, tmp_path: Path
) -> None:
    api_port = free_port()
    env = {
        **service_env,
        "WINDHASH_ELEXON_BASE_URL": sim.base_url,
        "WINDHASH_API_PORT": str(api_port),
    }
    processes = ServiceProcesses(env=env, log_dir=tmp_path / "logs")
    run_env = {**os.environ, **env}
    for step in (["difficulty", "load"], ["prices", "load"]):
        subprocess.run([*WINDHASH, *step], env=run_env, check=True, capture_output=True)
    try:
        processes.start("calculator", extra_env={"WINDHASH_METRICS_PORT": str(free_port())})
        processes.start("aggregator", extra_env={"WINDHASH_METRICS_PORT": str(free_port())})
        processes.start("api")
        wait_for_http(f"http://127.0.0.1:{api_port}/health", 60, processes)
        ingest = subprocess.run(
            [*WINDHASH, "ingest", "date", DAY.isoformat()], env=run_env, capture_output=True, text=True
        )
        assert ingest.returncode == 0, ingest.stdout + ingest.stderr
        asyncio.run(wait_until_complete(pg_dsn, processes))

        records, energy, cashflow = expected_from_elexon(sim.base_url, DAY)
        with httpx.Client(base_url=f"http://127.0.0.1:{api_port}/api/v1", timeout=30) as client:
            summary = client.get(f"/summaries/daily/{DAY}").json()
            mining = client.get(f"/mining/daily/{DAY}").json()
    finally:
        processes.stop_all()

    assert records > 0
    assert summary["record_count"] == records
    assert Decimal(str(summary["energy_mwh"])) == pytest.approx(energy, abs=Decimal("0.001"))
    assert Decimal(str(summary["cashflow_gbp"])) == pytest.approx(cashflow, abs=Decimal("0.01"))
    assert summary["coverage"]["periods_expected"] == 46

    # S19J Pro, 2024-03-31 (pre-halving reward 6.25 BTC) at that UTC day's difficulty, summed per record:
    # BTC = MWh × 3.6e9 / 3050 W × 100e12 H/s / (difficulty × 2^32) × 6.25, rounded per record to 1 satoshi.
    by_model = {row["miner_model"]: row for row in mining["models"]}
    s19 = by_model["S19J_PRO"]
    difficulty = difficulty_for(DAY)
    per_mwh = Decimal("3.6e9") / 3050 * Decimal("100e12") / (difficulty * 2**32) * Decimal("6.25")
    assert Decimal(str(s19["btc"])) == pytest.approx(energy * per_mwh, rel=Decimal("1e-5"))


def difficulty_for(day: date) -> Decimal:
    """From the reference file: the settlement day 2024-03-31 lies wholly inside UTC 2024-03-31."""
    return Decimal(json.loads(DIFFICULTY_FILE.read_text())[day.isoformat()])
