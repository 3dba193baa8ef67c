"""`windhash bmunits`: the wind BM unit registry (which units count as wind curtailment)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from windhash_common import event_loop

from windhash_cli.cli_audit import audit_command
from windhash_cli.input_checks import settlement_date

if TYPE_CHECKING:
    from asyncpg import Record
    from windhash_ingestor.bm_unit_registry import SkippedUnit
    from windhash_ingestor.registry_history import HistoryRefresh

app = typer.Typer(no_args_is_help=True, help="The wind BM unit registry.")


@app.command()
def sync(
    history: Annotated[
        bool,
        typer.Option(
            "--history/--no-history",
            help="Re-fetch the held periods a change touches, so history matches the registry (default).",
        ),
    ] = True,
    removed_from: Annotated[
        date | None,
        typer.Option(
            "--removed-from",
            parser=settlement_date,
            help="First settlement date a unit Elexon no longer lists stops counting (default: today, UTC).",
        ),
    ] = None,
) -> None:
    """Refresh the registry from Elexon's `/reference/bmunits/all` (fuelType WIND). A new unit's past
    curtailment is fetched again; a unit no longer listed stops counting from --removed-from, its history
    kept; a withdrawn unit listed again counts again and the periods it missed are fetched again."""
    from windhash_ingestor.bm_unit_registry import ReferenceDataError

    withdraw_from = removed_from or datetime.now(UTC).date()
    try:
        change = event_loop.run(_sync(withdraw_from))
    except ReferenceDataError as error:
        typer.echo(f"not loaded: {error}", err=True)
        raise typer.Exit(code=1) from error
    typer.echo(f"{change.units} wind BM units from Elexon, {change.added} new")
    for unit in change.skipped:
        typer.echo(f"skipped {unit.unit}: {unit.reason}", err=True)
    if change.withdrawal_refused:
        typer.echo(
            f"{len(change.withdrawal_refused)} counting units are no longer listed, too many to be a"
            " retirement: none withdrawn (check the source)",
            err=True,
        )
    if change.withdrawn:
        typer.echo(f"withdrawn from {withdraw_from}: {', '.join(change.withdrawn)}")
    for relisted, since in change.relisted_from.items():
        typer.echo(f"listed again: {relisted} (it had stopped counting from {since})")
    relisted_from = min(change.relisted_from.values(), default=None)
    if change.added_units or change.withdrawn or relisted_from:
        audit_command(
            "bmunits.sync",
            "wind-bm-units",
            None,
            None,
            {
                "added": list(change.added_units),
                "withdrawn": list(change.withdrawn),
                "counts_until": withdraw_from,
                "relisted": {relisted: since.isoformat() for relisted, since in change.relisted_from.items()},
            },
        )
    failed = 0
    if history and (change.added_units or change.withdrawn or relisted_from):
        withdrawn_from = withdraw_from if change.withdrawn else None
        failed = _refresh_history(bool(change.added_units), withdrawn_from, relisted_from)
    if change.skipped:
        typer.echo(f"{len(change.skipped)} unit(s) skipped; the others were applied", err=True)
    if change.skipped or change.withdrawal_refused or failed:
        raise typer.Exit(code=1)


def _refresh_history(added: bool, withdrawn_from: date | None, relisted_from: date | None) -> int:
    """Re-fetches what the change touched, with a progress bar; the periods that failed."""
    from windhash_ingestor.registry_history import refresh_history
    from windhash_ingestor.runtime import open_runtime
    from windhash_ingestor.settings import IngestorSettings

    async def run() -> "HistoryRefresh | None":
        from windhash_ingestor.registry_history import held_dates, refresh_start

        async with open_runtime(IngestorSettings()) as runtime:
            held = await held_dates(runtime.pool)
            first = refresh_start(held, added, withdrawn_from, relisted_from)
            if first is None or held is None:
                return None
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=Console(stderr=True)) as progress:
                task = progress.add_task("history re-fetched", total=None)
                return await refresh_history(runtime, first, held[1], lambda _: progress.advance(task))

    refreshed = event_loop.run(run())
    if refreshed is None:
        typer.echo("history: no held period is touched")
        return 0
    typer.echo(
        f"history: re-fetched {refreshed.periods} periods of {refreshed.first}..{refreshed.last}:"
        f" {refreshed.published} changed and published, {refreshed.unchanged} unchanged,"
        f" {refreshed.failed} failed"
    )
    if refreshed.failed:
        typer.echo(
            "failed periods are recorded; `windhash reconcile` or a second sync fetches them", err=True
        )
    return refreshed.failed


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


@dataclass(frozen=True)
class RegistryChange:
    units: int
    added: int
    added_units: tuple[str, ...]
    relisted_from: dict[str, date]
    withdrawn: tuple[str, ...]
    withdrawal_refused: tuple[str, ...]
    skipped: list["SkippedUnit"]


async def _sync(withdraw_from: date) -> RegistryChange:
    from windhash_common.db import create_pool, migrate_database
    from windhash_ingestor.bm_unit_registry import (
        read_reference_body,
        too_many_to_withdraw,
        unlisted_units,
        upsert_wind_units,
        withdraw_units,
    )
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
        listed = [unit.elexon_bm_unit for unit in reading.units] + [unit.unit for unit in reading.skipped]
        unlisted = await unlisted_units(pool, listed)
        registry_size = await pool.fetchval("SELECT count(*) FROM wind_bm_units")
        refused = unlisted if too_many_to_withdraw(len(unlisted), registry_size) else ()
        withdrawn = () if refused else await withdraw_units(pool, unlisted, withdraw_from)
    finally:
        await pool.close()
    return RegistryChange(
        update.units,
        update.added,
        update.added_units,
        update.relisted_from,
        withdrawn,
        refused,
        reading.skipped,
    )


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
