"""`windhash ingest range` over a month from the synthetic server: a correct final table, and it resumes."""

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from windhash_common.settlement_calendar import dates_between, settlement_periods
from windhash_elexon_sim import ElexonSimServer, settlement_stack
from windhash_elexon_sim.units import wind_unit_ids

pytestmark = pytest.mark.integration

WINDHASH = str(Path(sys.executable).with_name("windhash"))
FIRST, LAST = date(2024, 2, 1), date(2024, 2, 29)


@pytest.fixture
def sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer() as server:
        yield server


def expected_month() -> tuple[int, int, Decimal]:
    """Periods, records and MWh of the month, from the generator's rows (independent of the ingestor)."""
    wind = wind_unit_ids()
    periods = records = 0
    energy = Decimal(0)
    for day in dates_between(FIRST, LAST):
        for period in settlement_periods(day):
            periods += 1
            for row in settlement_stack(day, period, "bid"):
                if row["id"] in wind and row["soFlag"] is True and row["volume"] < 0:
                    records += 1
                    energy -= Decimal(repr(row["volume"]))
    return periods, records, energy


def total_row(table: str) -> list[str]:
    line = next(line for line in table.splitlines() if re.search(r"\btotal\b", line))
    return line.split()


def run_range(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [WINDHASH, "ingest", "range", FIRST.isoformat(), LAST.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


async def test_a_month_is_ingested_with_a_correct_final_table_and_resumes(
    service_env: dict[str, str], sim: ElexonSimServer
) -> None:
    env = {**os.environ, "WINDHASH_ELEXON_BASE_URL": sim.base_url, "COLUMNS": "220"}
    periods, records, energy = expected_month()

    first = await asyncio.to_thread(run_range, env)
    assert first.returncode == 0, first.stderr
    # columns: date, periods, new (published), same (unchanged), skipped, failed, pending, records, MWh
    assert total_row(first.stdout) == [
        "total",
        str(periods),
        str(periods),
        "0",
        "0",
        "0",
        "0",
        str(records),
        f"{energy:,.3f}",
    ]
    assert "2024-02-29" in first.stdout
    assert f"{periods}/{periods}" in first.stderr  # the progress bar reached the end

    again = await asyncio.to_thread(run_range, env)
    assert again.returncode == 0, again.stderr
    assert total_row(again.stdout) == [
        "total",
        str(periods),
        "0",
        "0",
        str(periods),
        "0",
        "0",
        str(records),
        f"{energy:,.3f}",
    ]
