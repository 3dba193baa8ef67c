"""The demo's hosting fleet: a SYNTHETIC site of a few hundred simulated miners (some offline, some
overheating, some losing hashrate), the collector polling them, the telemetry writer, the fleet's HTTP app
behind the API, and a summary of what they hold once every miner has been read."""

import asyncio
import subprocess
import time

import asyncpg
from rich.console import Console
from rich.table import Table
from windhash_common import event_loop
from windhash_fleet import fleet_queries

from windhash_cli.service_processes import WINDHASH, ServiceProcesses, wait_for_http

DEMO_MINERS = 300
# Faster than the production minute, so the demo shows readings, offline miners and rollups within a minute.
DEMO_POLL_INTERVAL_S = 10
SITE = "Demo site (SYNTHETIC)"


def fleet_environment(fleet_api_port: int) -> dict[str, str]:
    return {
        "WINDHASH_FLEET_POLL_INTERVAL_S": str(DEMO_POLL_INTERVAL_S),
        "WINDHASH_FLEET_API_PORT": str(fleet_api_port),
    }


def start_fleet(
    processes: ServiceProcesses, env: dict[str, str], sim_port: int, os_env: dict[str, str]
) -> None:
    """The simulator, its miners registered at the demo site, then the collector, writer and HTTP app."""
    processes.start(
        "fleet-sim",
        "fleet-sim",
        *("--miners", str(DEMO_MINERS), "--base-address", "127.77.0.1", "--control-port", str(sim_port)),
        *("--offline", "0.02", "--overheating", "0.03", "--hashrate-drop", "0.03"),
    )
    wait_for_http(f"http://127.0.0.1:{sim_port}/_sim/health", 60, processes)
    register = [*WINDHASH, "fleet", "register-sim", "--control-url", f"http://127.0.0.1:{sim_port}"]
    subprocess.run([*register, "--site", SITE, "--capacity-mw", "1.2"], env={**os_env, **env}, check=True)
    processes.start("fleet-writer", "fleet", "writer")
    processes.start("fleet-collector", "fleet", "collector")
    # Behind the API, which is its only caller: the API's X-Forwarded-For names the visitor.
    processes.start("fleet-api", "fleet-api", extra_env={"WINDHASH_API_TRUSTED_PROXIES": "127.0.0.1"})


async def _wait_for_readings(processes: ServiceProcesses, dsn: str, seconds: float) -> None:
    """Until every miner that answers has a reading and those that do not are marked offline."""
    connection = await asyncpg.connect(dsn)
    deadline = time.monotonic() + seconds
    try:
        while True:
            processes.check_alive()
            settled = await connection.fetchval(
                "SELECT count(*) FILTER (WHERE l.miner_id IS NULL AND m.status <> 'offline') = 0"
                " AND count(*) FILTER (WHERE m.status = 'offline') > 0"
                " FROM hosting_miners m LEFT JOIN miner_telemetry_latest l USING (miner_id)"
            )
            if settled:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the fleet did not report within {seconds:.0f} s")
            await asyncio.sleep(1.0)
    finally:
        await connection.close()


async def _summary(dsn: str) -> Table:
    connection = await asyncpg.connect(dsn)
    try:
        sites = await connection.fetch(fleet_queries.SITES, float(DEMO_POLL_INTERVAL_S), None)
        rows = await connection.fetchval("SELECT count(*) FROM miner_telemetry")
        hottest = await connection.fetch(fleet_queries.HOTTEST, float(DEMO_POLL_INTERVAL_S), 1)
    finally:
        await connection.close()
    table = Table(
        title="Hosting fleet now",
        caption=f"SYNTHETIC miners from windhash's fleet simulator; {rows:,} readings stored so far.",
    )
    for column in (
        "site",
        "miners",
        "reporting",
        "offline",
        "power now",
        "capacity",
        "hashrate now",
        "hottest",
    ):
        table.add_column(column, justify="left" if column in ("site", "hottest") else "right")
    hot = f"{hottest[0]['serial_number']} {hottest[0]['temperature_c']:.0f} °C" if hottest else "—"
    for site in sites:
        table.add_row(
            site["name"],
            f"{site['miners']:,}",
            f"{site['reporting']:,}",
            f"{site['offline']:,}",
            f"{site['power_now_kw']:,.1f} kW",
            f"{site['power_capacity_mw']:,.1f} MW",
            f"{site['hashrate_now_ths'] / 1000:,.2f} PH/s",
            hot,
        )
    return table


def print_fleet_summary(console: Console, processes: ServiceProcesses, dsn: str, fleet_api_port: int) -> None:
    wait_for_http(f"http://127.0.0.1:{fleet_api_port}/ready", 60, processes)
    console.print(f"[bold]Polling {DEMO_MINERS} simulated miners[/] every {DEMO_POLL_INTERVAL_S} s…")
    event_loop.run(_wait_for_readings(processes, dsn, 180))
    console.print(event_loop.run(_summary(dsn)))
