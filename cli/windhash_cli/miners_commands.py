"""`windhash miners`: the ASIC miner models every curtailment record is calculated for."""

import typer
from rich.console import Console
from rich.table import Table
from windhash_common import event_loop
from windhash_common.db import create_pool, migrate_database
from windhash_common.miner_models import MinerModel, list_miner_models, new_miner_model
from windhash_common.settlement_range import parse_iso_date

from windhash_cli.cli_audit import audit_command
from windhash_cli.input_checks import checked

app = typer.Typer(no_args_is_help=True, help="Miner models.")
console = Console()


@app.command("list")
def list_models() -> None:
    """Every miner model, with its specs and whether it is calculated (active)."""
    from windhash_calculator.settings import CalculatorSettings

    async def read() -> list[MinerModel]:
        settings = CalculatorSettings()
        await migrate_database(settings.database_url)
        pool = await create_pool(settings.database_url, max_size=1)
        try:
            async with pool.acquire() as connection:
                return await list_miner_models(connection)
        finally:
            await pool.close()

    table = Table(title="miner models")
    for column in ("name", "manufacturer", "TH/s", "W", "J/TH", "released", "MSRP $", "active"):
        table.add_column(column, justify="right" if column in ("TH/s", "W", "J/TH", "MSRP $") else "left")
    for model in event_loop.run(read()):
        table.add_row(
            model.name,
            model.manufacturer,
            f"{model.hashrate_ths:f}",
            f"{model.power_w:f}",
            f"{model.efficiency_j_per_th:.2f}",
            model.release_date.isoformat() if model.release_date else "-",
            f"{model.msrp_usd:f}" if model.msrp_usd is not None else "-",
            "yes" if model.active else "no",
        )
    console.print(table)


@app.command()
def add(
    name: str = typer.Argument(..., help="Model name, e.g. S21_PRO."),
    manufacturer: str = typer.Option(..., help="e.g. Bitmain, MicroBT."),
    hashrate_ths: str = typer.Option(..., "--hashrate-ths", help="Nominal hashrate, TH/s."),
    power_w: str = typer.Option(..., "--power-w", help="Wall power at that hashrate, W."),
    release_date: str | None = typer.Option(None, help="YYYY-MM-DD the model was launched."),
    inactive: bool = typer.Option(False, help="Record the model without calculating it."),
    msrp_usd: str | None = typer.Option(None, "--msrp-usd", help="Launch price, USD (unknown if omitted)."),
) -> None:
    """Add a model and compute its history: every calculated period gets its rows; the summaries follow."""
    from windhash_calculator.miner_backfill import MinerModelConflict, add_miner_model
    from windhash_calculator.settings import CalculatorSettings

    model = checked(
        lambda: new_miner_model(
            name,
            manufacturer,
            hashrate_ths,
            power_w,
            parse_iso_date(release_date, "--release-date") if release_date is not None else None,
            active=not inactive,
            msrp_usd=msrp_usd,
        )
    )
    settings = CalculatorSettings()

    async def add_and_backfill() -> bool:
        await migrate_database(settings.database_url)
        pool = await create_pool(settings.database_url, max_size=2)
        try:
            with console.status(f"adding {name} and computing its history"):
                outcome = await add_miner_model(pool, model, settings.topics, settings.halvings())
        finally:
            await pool.close()
        verb = "added" if outcome.created else "already present (same specs)"
        console.print(
            f"{name}: {verb}; {outcome.calculations} calculations written for {outcome.periods} periods"
        )
        return outcome.created

    try:
        created = event_loop.run(add_and_backfill())
    except MinerModelConflict as error:
        console.print(f"[red]error:[/] {error}")
        raise typer.Exit(1) from None
    if created:
        specs = {
            "manufacturer": model.manufacturer,
            "hashrate_ths": model.hashrate_ths,
            "power_w": model.power_w,
            "release_date": model.release_date,
            "active": model.active,
        }
        audit_command("miner-model.add", "miner-model", name, None, specs)
