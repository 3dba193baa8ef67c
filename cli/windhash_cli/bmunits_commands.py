"""`windhash bmunits`: the wind BM unit registry (which units count as wind curtailment)."""

from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table
from windhash_common import event_loop

if TYPE_CHECKING:
    from asyncpg import Record
    from windhash_ingestor.bm_unit_registry import SkippedUnit

app = typer.Typer(no_args_is_help=True, help="The wind BM unit registry.")


@app.command()
def sync() -> None:
    """Refresh the registry from Elexon's `/reference/bmunits/all` (fuelType WIND); none are removed."""
    from windhash_ingestor.bm_unit_registry import ReferenceDataError

    try:
        added, units, skipped = event_loop.run(_sync())
    except ReferenceDataError as error:
        typer.echo(f"not loaded: {error}", err=True)
        raise typer.Exit(code=1) from error
    typer.echo(f"{units} wind BM units from Elexon, {added} new")
    for unit in skipped:
        typer.echo(f"skipped {unit.unit}: {unit.reason}", err=True)
    if skipped:
        typer.echo(f"{len(skipped)} unit(s) skipped; the others were applied", err=True)
        raise typer.Exit(code=1)


@app.command()
def seed() -> None:
    """Load the packaged snapshot of 212 wind units (new units added, known ones refreshed)."""
    added, units = event_loop.run(_seed())
    typer.echo(f"{units} wind BM units from the packaged snapshot, {added} new")


@app.command("list")
def list_units(limit: int = typer.Option(30, help="How many units to show, largest first.")) -> None:
    """Show the registry, largest capacity first."""
    rows, total = event_loop.run(_list(limit))
    table = Table(title=f"wind BM units ({total} in the registry)")
    for column in ("BM unit", "name", "lead party", "MW", "first seen", "last seen"):
        table.add_column(column)
    for row in rows:
        capacity = row["generation_capacity_mw"]
        table.add_row(
            row["elexon_bm_unit"],
            row["bm_unit_name"] or "",
            row["lead_party_name"] or "",
            "" if capacity is None else f"{capacity:,.1f}",
            f"{row['first_seen']:%Y-%m-%d %H:%M}",
            f"{row['last_seen']:%Y-%m-%d %H:%M}",
        )
    Console().print(table)


async def _sync() -> tuple[int, int, list["SkippedUnit"]]:
    from windhash_common.db import create_pool, migrate_database
    from windhash_ingestor.bm_unit_registry import read_reference_body, upsert_wind_units
    from windhash_ingestor.elexon_client import ElexonClient
    from windhash_ingestor.settings import IngestorSettings

    settings = IngestorSettings()
    async with ElexonClient(settings) as client:
        response = await client.bm_units()
    reading = read_reference_body(response.body)
    await migrate_database(settings.database_url)
    pool = await create_pool(settings.database_url)
    try:
        update = await upsert_wind_units(pool, reading.units)
    finally:
        await pool.close()
    return update.added, update.units, reading.skipped


async def _seed() -> tuple[int, int]:
    from windhash_common.db import create_pool, migrate_database
    from windhash_ingestor.bm_unit_registry import packaged_wind_units, upsert_wind_units
    from windhash_ingestor.settings import IngestorSettings

    settings = IngestorSettings()
    await migrate_database(settings.database_url)
    pool = await create_pool(settings.database_url)
    try:
        update = await upsert_wind_units(pool, packaged_wind_units())
    finally:
        await pool.close()
    return update.added, update.units


async def _list(limit: int) -> tuple[list["Record"], int]:
    from windhash_common.db import create_pool
    from windhash_ingestor.bm_unit_registry import list_wind_units
    from windhash_ingestor.settings import IngestorSettings

    pool = await create_pool(IngestorSettings().database_url)
    try:
        rows = await list_wind_units(pool)
    finally:
        await pool.close()
    return rows[:limit], len(rows)
