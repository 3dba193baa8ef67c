"""`windhash fleet`: the telemetry collector, telemetry partitions, registering a simulated fleet."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import typer
from rich.console import Console
from windhash_common import event_loop

app = typer.Typer(no_args_is_help=True, help="The hosting fleet: collector, partitions, registration.")
console = Console()


@app.command()
def collector() -> None:
    """Run the telemetry collector: poll the miners of the shards it holds, once a minute."""
    from windhash_fleet.main import run

    run()


@app.command()
def partitions(
    days_ahead: int = typer.Option(3, min=0, max=366, help="Days after today to create partitions for."),
    retention_days: int = typer.Option(90, min=1, help="Drop the partitions of days older than this."),
) -> None:
    """Create miner_telemetry's daily partitions ahead and drop those past retention (whole partitions)."""
    from windhash_common.db import create_pool, migrate_database
    from windhash_fleet.settings import FleetSettings
    from windhash_fleet.telemetry_partitions import maintain_partitions, partition_days

    async def maintain() -> None:
        settings = FleetSettings()
        await migrate_database(settings.database_url)
        pool = await create_pool(settings.database_url, max_size=1)
        try:
            async with pool.acquire() as connection:
                done = await maintain_partitions(
                    connection, datetime.now(UTC).date(), days_ahead, retention_days
                )
                days = await partition_days(connection)
        finally:
            await pool.close()
        console.print(
            f"created {done.created} partitions, dropped {len(done.dropped)}:"
            f" {', '.join(done.dropped) or '-'}"
        )
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
    from windhash_common.db import create_pool, migrate_database
    from windhash_fleet.fleet_registry import NewMiner, register_miners, upsert_site
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
                site_id = await upsert_site(connection, site, location, Decimal(capacity_mw))
                return site_id, await register_miners(connection, site_id, miners, "cli:register-sim")
        finally:
            await pool.close()

    site_id, added = event_loop.run(register())
    console.print(
        f"site {site!r} (id {site_id}): {added} miners added, {len(miners) - added} already registered"
    )
