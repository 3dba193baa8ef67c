"""`windhash plans`: run the plans worker (no subcommand), backtest curtailment policies on a site's history,
sync the half-hourly power prices, list plans."""

import csv
import sys
from datetime import date, timedelta
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from windhash_common import event_loop

app = typer.Typer(
    help="Curtailment plans: the worker (executor, automatic policy, power prices), backtests, prices. "
    "With no command, runs the worker in the foreground."
)
console = Console()
POLICY_HELP = "always-on, economic (the site's automatic policy) or threshold:<£/MWh>; repeat for several."


@app.callback(invoke_without_command=True)
def plans(context: typer.Context) -> None:
    """Run the plans worker until SIGTERM or SIGINT (executor, policy and price sync: one runner each)."""
    if context.invoked_subcommand is None:
        from windhash_plans.main import run

        run()


async def _site_id(connection: Any, site: str) -> int:
    row = await connection.fetchrow(
        "SELECT site_id FROM hosting_sites WHERE site_id::text = $1 OR name = $1 ORDER BY site_id LIMIT 1",
        site,
    )
    if row is None:
        console.print(f"[red]no site {site!r} (give its id or its name)[/]")
        raise typer.Exit(2)
    return int(row["site_id"])


def _figures(values: Any) -> list[str]:
    return [
        f"{values.curtailed_mwh:.3f}",
        f"{values.saved_gbp:.2f}",
        f"{values.btc_forgone:.8f}",
        f"{values.forgone_gbp:.2f}",
        f"{values.net_gbp:.2f}",
    ]


FIGURES = ["mwh_curtailed", "gbp_saved_on_power", "btc_forgone", "gbp_mining_forgone", "net_gbp"]


@app.command()
def backtest(
    site: str = typer.Option(..., help="The site (id or name)."),
    first: str = typer.Option(..., "--from", help="First settlement date, YYYY-MM-DD."),
    last: str = typer.Option(..., "--to", help="Last settlement date, YYYY-MM-DD."),
    policy: list[str] = typer.Option(["economic"], help=POLICY_HELP),
    as_csv: bool = typer.Option(False, "--csv", help="Per policy and day, as CSV on stdout."),
) -> None:
    """Replay the site's history (half-hourly power prices, difficulty, BTC price) through each policy: MWh
    curtailed, £ saved on power, BTC and £ of mining forgone, net. Periods missing an input are skipped for
    every policy and counted, never filled in (`windhash plans prices` fetches power prices)."""
    from windhash_common.db import create_pool, migrate_database
    from windhash_common.difficulty_store import open_difficulty_store
    from windhash_plans.backtest_inputs import load_inputs
    from windhash_plans.domain.backtest import Policy
    from windhash_plans.domain.backtest import backtest as run_backtest
    from windhash_plans.settings import PlansSettings

    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    settings = PlansSettings()
    if end < start or (end - start).days + 1 > settings.plans_backtest_max_days:
        raise typer.BadParameter(f"--from..--to spans 1 to {settings.plans_backtest_max_days} days")

    async def replay() -> Any:
        await migrate_database(settings.database_url)
        pool = await create_pool(settings.database_url, max_size=2)
        try:
            async with pool.acquire() as connection, open_difficulty_store(settings) as difficulty:
                site_id = await _site_id(connection, site)
                inputs = await load_inputs(connection, difficulty, site_id, start, end)
        finally:
            await pool.close()
        try:
            policies = [Policy.parse(name, inputs.rules) for name in policy]
        except (ValueError, ArithmeticError) as error:
            raise typer.BadParameter(str(error)) from None
        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("replaying half hours", total=len(inputs.history.periods))
            report = run_backtest(
                inputs.history, inputs.fleet, policies, on_period=lambda _: progress.advance(task)
            )
        return site_id, inputs, report

    site_id, inputs, report = event_loop.run(replay())
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["policy", "day", *FIGURES])
        for result in report.results:
            for day, values in sorted(result.by_day.items()):
                writer.writerow([result.policy, day.isoformat(), *_figures(values)])
            writer.writerow([result.policy, "total", *_figures(result.totals)])
        return
    fleet = ", ".join(f"{model.miners} × {model.spec.name}" for model in inputs.fleet) or "no miners"
    synthetic = " (SYNTHETIC power prices)" if inputs.synthetic_prices else ""
    table = Table(title=f"Site {site_id}, {start} to {end}: {fleet}{synthetic}")
    for column in ("policy", "MWh curtailed", "£ saved on power", "BTC forgone", "£ mining forgone", "net £"):
        table.add_column(column, justify="left" if column == "policy" else "right")
    for result in report.results:
        table.add_row(result.policy, *_figures(result.totals))
    console.print(table)
    skipped = ", ".join(f"{count} {reason}" for reason, count in sorted(report.periods_skipped.items()))
    console.print(
        f"{report.periods_evaluated} half hours replayed" + (f"; skipped: {skipped}" if skipped else "")
    )


@app.command()
def prices(
    first: str = typer.Option(..., "--from", help="First settlement date, YYYY-MM-DD."),
    last: str = typer.Option(..., "--to", help="Last settlement date, YYYY-MM-DD."),
) -> None:
    """Fetch and store Elexon's half-hourly market index prices for the dates (WINDHASH_ELEXON_BASE_URL)."""
    from windhash_common.db import create_pool, migrate_database
    from windhash_common.market_sources.http_fetch import SourceError
    from windhash_plans.price_sync import PriceSync
    from windhash_plans.settings import PlansSettings

    start, end = date.fromisoformat(first), date.fromisoformat(last)
    days = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
    settings = PlansSettings()

    async def sync() -> tuple[int, int]:
        await migrate_database(settings.database_url)
        pool = await create_pool(settings.database_url, max_size=2)
        stored = missing = 0
        try:
            async with PriceSync.open(settings, pool) as syncing:
                with Progress(console=console, transient=True) as progress:
                    task = progress.add_task("fetching days", total=len(days))
                    for day in days:
                        (done,) = await syncing.sync([day])
                        stored, missing = stored + done.stored, missing + done.missing
                        progress.advance(task)
        finally:
            await pool.close()
        return stored, missing

    try:
        stored, missing = event_loop.run(sync())
    except SourceError as error:
        console.print(f"[red]Elexon could not be read: {error}[/]")
        raise typer.Exit(1) from None
    console.print(f"{len(days)} days: {stored} half-hourly prices stored, {missing} periods without a price")


@app.command("list")
def list_plans(
    site: int | None = typer.Option(None, help="Only this site's plans (id)."),
    as_csv: bool = typer.Option(False, "--csv", help="As CSV on stdout."),
) -> None:
    """The plans, newest first, with their status and measured power."""
    from windhash_common.db import create_pool
    from windhash_plans.queries.plan_views import LIST_PLANS
    from windhash_plans.settings import PlansSettings

    async def fetch() -> list[Any]:
        pool = await create_pool(PlansSettings().database_url, max_size=1)
        try:
            async with pool.acquire() as connection:
                return list(await connection.fetch(LIST_PLANS, site, None, 500, 0))
        finally:
            await pool.close()

    rows = event_loop.run(fetch())
    columns = [
        "plan_id",
        "site_name",
        "plan_type",
        "status",
        "phase",
        "target_reduction_mw",
        "power_reduced_mw",
    ]
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([row[column] for column in columns] for row in rows)
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    console.print(table)


def plans_api() -> None:
    """Serve the plans' HTTP app (WINDHASH_PLANS_API_PORT, 8087), behind the API's /api/v1/plans/..."""
    from windhash_plans.api_main import run

    run()
