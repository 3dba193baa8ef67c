"""`windhash plans backtest` as an operator runs it, on a day whose inputs are set by hand: two S19J Pros, the
half-hourly power price £100/MWh in the first period and £20 after, difficulty 8e13 (DynamoDB), BTC £40,000.

By hand, for the one half hour worth curtailing: 2 × 3,050 W × 0.5 h = 0.00305 MWh, £0.305 of power saved;
3,600 s of mining at 100 TH/s: 3.6e17 / (8e13 × 2^32) × 6.25 BTC = 0.00000655 BTC (to the satoshi), £0.262;
net £0.043. The S19J Pro's hashprice is £85.88/MWh, so the economic policy curtails exactly that half hour,
as a £50 threshold does; always-on curtails nothing."""

import asyncio
import csv
import io
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.difficulty_store import open_difficulty_store
from windhash_common.settings import CommonSettings
from windhash_common.settlement_calendar import period_start_utc, settlement_periods
from windhash_common.topics import Topics
from windhash_testing.fleet_telemetry import register_site

pytestmark = pytest.mark.integration
WINDHASH = str(Path(sys.executable).with_name("windhash"))
DAY = date(2024, 3, 1)


async def _seed(pg_dsn: str) -> int:
    connection = await asyncpg.connect(pg_dsn)
    try:
        site_id, _ = await register_site(
            connection, "Backtest site", ["BT-0", "BT-1", "BT-2"], 79, Topics("bt")
        )
        await connection.execute(
            "UPDATE hosting_miners SET status = 'retired', telemetry_enabled = false"
            " WHERE serial_number = 'BT-1'"
        )
        await connection.execute(
            "UPDATE hosting_miners SET miner_model = 'S19J_PRO' WHERE serial_number = 'BT-2'"
        )
        rows = [
            (
                DAY,
                period,
                period_start_utc(DAY, period),
                Decimal(100 if period == 1 else 20),
                Decimal(1000),
                "test",
                True,
            )
            for period in settlement_periods(DAY)
        ]
        await connection.executemany(
            "INSERT INTO power_prices (settlement_date, settlement_period, start_time, price_gbp_per_mwh,"
            " volume_mwh, source, synthetic) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            rows,
        )
        await connection.execute(
            "INSERT INTO btc_prices (price_date, gbp, usd, source) VALUES ($1, 40000, 51000, 'test')", DAY
        )
        return site_id
    finally:
        await connection.close()


def _windhash(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [WINDHASH, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


async def test_the_backtest_command_reports_the_hand_computed_case_per_policy(
    pg_dsn: str, service_env: dict[str, str]
) -> None:
    site_id = await _seed(pg_dsn)
    async with open_difficulty_store(CommonSettings()) as store:
        await store.ensure_table()
        for day in (DAY - timedelta(days=1), DAY, DAY + timedelta(days=1)):
            await store.add_difficulties({day: Decimal("8e13")}, "test")
    env = {**service_env, "WINDHASH_DATABASE_URL": dsn_as(pg_dsn, DatabaseRole.OPERATOR)}
    args = [
        "plans",
        "backtest",
        "--site",
        str(site_id),
        "--from",
        DAY.isoformat(),
        "--to",
        DAY.isoformat(),
    ]
    policies = ["--policy", "economic", "--policy", "threshold:50", "--policy", "always-on"]
    result = await asyncio.to_thread(_windhash, [*args, *policies, "--csv"], env)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    totals = {row["policy"]: row for row in rows if row["day"] == "total"}
    for name in ("economic", "threshold:50"):
        assert totals[name] == {
            "policy": name,
            "day": "total",
            "mwh_curtailed": "0.003",  # 0.00305
            "gbp_saved_on_power": "0.30",  # 0.305, half-even
            "btc_forgone": "0.00000655",
            "gbp_mining_forgone": "0.26",  # 0.262
            "net_gbp": "0.04",  # 0.043
        }
    assert totals["always-on"]["mwh_curtailed"] == "0.000"
    assert [row["day"] for row in rows if row["policy"] == "economic"] == [DAY.isoformat(), "total"]

    table = await asyncio.to_thread(_windhash, [*args, "--policy", "threshold:50"], env)
    assert table.returncode == 0, table.stderr
    assert "2 × S19J_PRO" in table.stdout and "SYNTHETIC" in table.stdout
    assert "48 half hours replayed" in table.stdout

    unknown = await asyncio.to_thread(_windhash, [*args, "--policy", "sometimes"], env)
    assert unknown.returncode == 2 and "unknown policy" in unknown.stderr
