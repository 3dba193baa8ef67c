"""`windhash fleet`: the telemetry collector and writer, telemetry maintenance, registering a simulated
fleet."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import typer
from rich.console import Console
from windhash_common import event_loop

app = typer.Typer(
    no_args_is_help=True, help="The hosting fleet: collector, writer, partitions, registration."
)
console = Console()


@app.command()
def collector() -> None:
    """Run the telemetry collector: poll the miners of the shards it holds, once a minute."""
    from windhash_fleet.main import run

    run()


@app.command()
def writer() -> None:
    """Run the telemetry writer (Kafka → miner_telemetry and its rollups, exactly once) and its upkeep."""
    from windhash_fleet.writer_main import run

    run()


def fleet_api() -> None:
    """Serve the fleet's HTTP app (sites, miners, telemetry, imports) behind the API's /api/v1/fleet/."""
    from windhash_fleet.api_main import run

    run()


@app.command()
def partitions() -> None:
    """Run the maintenance job once: partitions ahead, retention drops (whole partitions), log pruning.

    Days ahead and retention come from the fleet settings (WINDHASH_FLEET_PARTITION_DAYS_AHEAD,
    WINDHASH_FLEET_TELEMETRY_RETENTION_DAYS, WINDHASH_FLEET_OPERATION_LOG_RETENTION_DAYS)."""
    from windhash_common.db import create_pool, migrate_database
    from windhash_fleet.settings import FleetSettings
    from windhash_fleet.telemetry_maintenance import maintain_once

    async def maintain() -> None:
        settings = FleetSettings()
        await migrate_database(settings.database_url)
        pool = await create_pool(settings.database_url, max_size=1)
        try:
            async with pool.acquire() as connection, connection.transaction():
                report = await maintain_once(connection, settings, datetime.now(UTC))
        finally:
            await pool.close()
        dropped = report.partitions.dropped
        console.print(
            f"created {report.partitions.created} partitions, dropped {len(dropped)}:"
            f" {', '.join(dropped) or '-'}; pruned {report.log_rows_pruned} operation-log rows and"
            f" {report.miner_hours_pruned} miner-hours"
        )
        days = report.partition_days
        if days:
            console.print(f"{len(days)} daily partitions, {days[0]} to {days[-1]} (UTC days)")

    event_loop.run(maintain())


@app.command("register-sim")
def register_sim(
    control_url: str = typer.Option("http://127.0.0.1:18090", help="The fleet simulator's control API."),
    site: str = typer.Option("Synthetic site", help="Site the miners are registered at (created if new)."),
    capacity_mw: str = typer.Option("10", help="The site's power capacity, MW."),
    location: str = typer.Option("SYNTHETIC", help="The site's location."),
) -> None:
    """Register every miner of a running `windhash fleet-sim` at a site (registered ones are kept)."""
    import httpx
    from windhash_common.audit import cli_actor
    from windhash_common.db import create_pool, migrate_database
    from windhash_fleet.fleet_registry import NewMiner, ensure_site, register_miners
    from windhash_fleet.settings import FleetSettings

    response = httpx.get(f"{control_url}/_sim/miners.csv", timeout=30)
    response.raise_for_status()
    rows = list(csv.DictReader(io.StringIO(response.text)))
    miners = [
        NewMiner(row["serial_number"], row["miner_model"], row["api_host"], int(row["api_port"]))
        for row in rows
    ]

    async def register() -> tuple[int, int]:
        settings = FleetSettings()
        await migrate_database(settings.database_url)
        pool = await create_pool(settings.database_url, max_size=1)
        try:
            async with pool.acquire() as connection:
                actor, topics = cli_actor(), settings.topics
                site_id = await ensure_site(connection, topics, actor, site, location, Decimal(capacity_mw))
                return site_id, await register_miners(connection, topics, site_id, miners, actor)
        finally:
            await pool.close()

    site_id, added = event_loop.run(register())
    console.print(
        f"site {site!r} (id {site_id}): {added} miners added, {len(miners) - added} already registered"
    )
