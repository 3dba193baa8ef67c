"""`windhash market`: run the market service (no subcommand), or look at and act on its data."""

import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from windhash_common import event_loop
from windhash_common.db import create_pool, migrate_database
from windhash_common.tabular import csv_text, flat_row

app = typer.Typer(
    help="The market service: 15-minute snapshots, reference data kept current, hashprice, indicators. "
    "With no command, runs the service in the foreground."
)
console = Console()
indicators_app = typer.Typer(no_args_is_help=True, help="Technical indicators over the snapshot series.")
app.add_typer(indicators_app, name="indicators")


@app.callback(invoke_without_command=True)
def market(context: typer.Context) -> None:
    """Run the market service until SIGTERM or SIGINT (one runner at a time: see `windhash jobs`)."""
    if context.invoked_subcommand is None:
        from windhash_market.main import run

        run()


async def _with_pool(work: Callable[[Any, Any], Awaitable[Any]]) -> Any:
    from windhash_market.settings import MarketSettings

    settings = MarketSettings()
    await migrate_database(settings.database_url)
    pool = await create_pool(settings.database_url, max_size=3)
    try:
        return await work(settings, pool)
    finally:
        await pool.close()


def _under_lease(step: Callable[[Any], Awaitable[None]]) -> None:
    """Run `step(collector)` holding the market job's lease, or say who holds it and exit 1."""
    from windhash_common.job_leases import JobLease, run_while_holding
    from windhash_market.runner import market_collector
    from windhash_market.settings import JOB_KEY

    async def work(settings: Any, pool: Any) -> bool:
        async with market_collector(settings, pool) as collector:
            lease = JobLease(pool, JOB_KEY, settings.market_lease_ttl_s)
            return await run_while_holding(lease, lambda: step(collector))

    if not event_loop.run(_with_pool(work)):
        console.print("[red]the market job is held by a running service (see `windhash jobs market/`)[/]")
        raise typer.Exit(1)


@app.command()
def status(as_csv: bool = typer.Option(False, "--csv", help="The recent problems as CSV.")) -> None:
    """The newest snapshot and its age, the last day's slots by outcome, recent refusals and misses."""
    from windhash_market.queries.status import MarketStatus, market_status
    from windhash_market.settings import JOB_KEY

    async def work(settings: Any, pool: Any) -> MarketStatus:
        async with pool.acquire() as connection:
            return await market_status(connection, datetime.now(UTC), JOB_KEY)

    found: MarketStatus = event_loop.run(_with_pool(work))
    if as_csv:
        columns = ("slot_at", "status", "reason", "attempts", "updated_at")
        sys.stdout.write(csv_text([flat_row(row) for row in found.problems], columns))
        return
    if found.latest is None:
        console.print("[red]no market snapshot yet[/]")
    else:
        latest = found.latest
        label = " [yellow]SYNTHETIC[/]" if latest["synthetic"] else ""
        console.print(
            f"newest snapshot {latest['slot_at'].isoformat()} ({found.age} ago){label}: "
            f"${latest['price_usd']:,} £{latest['price_gbp']:,}, {latest['hashrate_ehs']} EH/s, "
            f"difficulty {latest['difficulty']:,.0f}, block {latest['block_height']}, "
            f"reward {latest['block_reward_btc']} BTC"
        )
    outcomes = ", ".join(f"{count} {name}" for name, count in sorted(found.outcomes.items())) or "none"
    console.print(f"last 24 h (96 slots): {outcomes}")
    if found.indicators:
        values = found.indicators
        at = values["slot_at"].isoformat()
        console.print(f"indicators at {at}: signal {values['signal']}, RSI {values['rsi_14']}")
    for holder in found.holders:
        console.print(f"job {holder.job_key}: {holder.holder} since {holder.acquired_at.isoformat()}")
    if found.problems:
        table = Table(title="recent refusals and misses")
        for column in ("slot", "status", "attempts", "reason"):
            table.add_column(column)
        for row in found.problems:
            table.add_row(
                row["slot_at"].isoformat(), row["status"], str(row["attempts"]), row["reason"] or ""
            )
        console.print(table)


@app.command("snapshot-now")
def snapshot_now() -> None:
    """One cycle now: the current slot's snapshot, the backfill, reference data, indicators."""
    _under_lease(lambda collector: collector.run_cycle())
    console.print("cycle done; `windhash market status` shows the outcome")


@app.command()
def backfill(
    hours: int = typer.Option(48, min=1, max=24 * 90, help="How far back to look for missed slots."),
) -> None:
    """Fill missed slots of the last HOURS from the sources' history (a slot it lacks stays a gap)."""
    from windhash_market.settings import MarketSettings

    async def step(collector: Any) -> None:
        collector.settings = MarketSettings(market_backfill_hours=hours)
        await collector.backfill(datetime.now(UTC))
        await collector.update_indicators()

    _under_lease(step)
    console.print("backfill done; `windhash market status` shows what stayed a gap and why")


@indicators_app.command()
def recompute() -> None:
    """Recompute every snapshot's indicators from the whole series and store them."""
    from windhash_market.indicators import recompute as recompute_series
    from windhash_market.queries.snapshots import upsert_indicators, usd_price_series

    async def work(settings: Any, pool: Any) -> int:
        async with pool.acquire() as connection, connection.transaction():
            _, values = recompute_series(await usd_price_series(connection))
            if values:
                await upsert_indicators(connection, values)
            return len(values)

    console.print(f"{event_loop.run(_with_pool(work))} snapshots' indicators recomputed")


@app.command()
def hashprice(as_csv: bool = typer.Option(False, "--csv", help="Write CSV to standard output.")) -> None:
    """The latest hashprice of each active miner model: £/MWh and $/TH/day at the newest snapshot."""
    from windhash_market.queries.hashprice import LatestHashprice, latest_hashprice

    async def work(settings: Any, pool: Any) -> LatestHashprice | None:
        async with pool.acquire() as connection:
            return await latest_hashprice(connection)

    found: LatestHashprice | None = event_loop.run(_with_pool(work))
    if found is None:
        console.print("[red]no market snapshot yet: no hashprice[/]")
        raise typer.Exit(1)
    columns = ("model", "GBP per MWh", "BTC per MWh", "USD per TH/s per day", "USD per miner per day")
    rows = [
        (
            price.miner_model,
            f"{price.gbp_per_mwh:.2f}",
            f"{price.btc_per_mwh:.8f}",
            f"{price.usd_per_th_day:.4f}",
            f"{price.usd_per_miner_day:.2f}",
        )
        for price in found.models
    ]
    if as_csv:
        sys.stdout.write(csv_text([dict(zip(columns, row, strict=True)) for row in rows], columns))
        return
    label = " (SYNTHETIC)" if found.synthetic else ""
    table = Table(title=f"hashprice at {found.slot_at.isoformat()}{label}")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)
