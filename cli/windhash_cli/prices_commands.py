"""`windhash prices`: daily BTC prices in GBP and USD; a day without a price has no fiat value."""

from datetime import date
from pathlib import Path
from typing import Annotated

import asyncpg
import typer
from rich.console import Console
from rich.table import Table
from windhash_common import event_loop
from windhash_common.btc_prices import (
    DailyPrice,
    PriceWrite,
    packaged_synthetic_prices_2024,
    prices_between,
    read_price_file,
    store_prices,
)
from windhash_common.db import create_pool, migrate_database
from windhash_common.input_values import checked_name, decimal_of
from windhash_common.settlement_calendar import dates_between

from windhash_cli.input_checks import checked, settlement_date, settlement_span
from windhash_cli.reference_corrections import audit_price_changes, recompute_price_days

app = typer.Typer(no_args_is_help=True, help="Daily BTC prices.")
console = Console()


async def _store(prices: list[DailyPrice], reason: str | None = None) -> PriceWrite:
    """Store the prices (replacing what differs); every replaced day, and with a `reason` (`prices set`)
    every day written, is audited in the same transaction, then its summaries are recomputed."""
    from windhash_calculator.settings import CalculatorSettings

    settings = CalculatorSettings()
    await migrate_database(settings.database_url)
    pool = await create_pool(settings.database_url, max_size=2)
    try:
        async with pool.acquire() as connection, connection.transaction():
            written = await store_prices(connection, prices, overwrite=True)
            offered = {price.price_date: price for price in prices}
            changes: dict[date, tuple[DailyPrice | None, DailyPrice]] = dict(written.replaced)
            if reason is not None:
                changes.update({day: (None, offered[day]) for day in written.written if day not in changes})
            await audit_price_changes(connection, settings, changes, reason or "prices load or sync")
        for day, (old, new) in sorted(written.replaced.items()):
            console.print(f"[yellow]replaced[/] {day}: GBP {old.gbp} → {new.gbp}, USD {old.usd} → {new.usd}")
        repaired = await recompute_price_days(pool, sorted(changes))
        if repaired is not None:
            console.print(f"recomputed the summaries of {len(repaired.days)} days whose price changed")
        return written
    finally:
        await pool.close()


def _report(written: PriceWrite) -> None:
    """Print what was stored and refused; exit 2 when anything was refused (the rest is stored)."""
    console.print(f"{len(written.written) + len(written.unchanged)} days of prices stored")
    for day, reason in written.refused.items():
        console.print(f"[red]refused[/] {day}: {reason}")
    if written.refused:
        console.print(
            f"[red]{len(written.refused)} implausible days refused"
            " (bounds: windhash_common.reference_bounds)[/]"
        )
        raise typer.Exit(2)


@app.command()
def load(
    file: Path | None = typer.Argument(None, help="Price JSON; default: the packaged SYNTHETIC 2024 file."),
) -> None:
    """Load daily prices from a file ({"source": ..., "prices": {"YYYY-MM-DD": {"gbp": ..., "usd": ...}}})."""
    prices = checked(lambda: read_price_file(file)) if file else packaged_synthetic_prices_2024()
    if file is None:
        console.print("[yellow]loading SYNTHETIC 2024 prices (demo only, source 'synthetic')[/]")
    _report(event_loop.run(_store(prices)))


@app.command()
def sync(
    start: Annotated[date, typer.Option(parser=settlement_date, help="First date, YYYY-MM-DD.")],
    end: Annotated[date, typer.Option(parser=settlement_date, help="Last date, YYYY-MM-DD.")],
) -> None:
    """Fetch daily GBP and USD prices from the price API (CoinGecko at WINDHASH_PRICE_API_URL), store them."""
    from windhash_common.market_sources.price_api import PriceApiClient
    from windhash_common.market_sources.settings import MarketSourceSettings

    settings = MarketSourceSettings()
    settlement_span(start, end)
    first, last = start, end

    async def fetch() -> list[DailyPrice]:
        limits = settings.fetch_limits()
        async with PriceApiClient(settings.price_api_url, limits, settings.price_api_key_value) as prices:
            return await prices.daily_prices(first, last)

    with console.status(f"fetching prices {first} to {last} from {settings.price_api_url}"):
        fetched = event_loop.run(fetch())
    missing = sum(1 for _ in dates_between(first, last)) - len(fetched)
    console.print(f"{missing} days in the range have no price at the source")
    _report(event_loop.run(_store(fetched)))


@app.command("set")
def set_command(
    day: Annotated[date, typer.Argument(parser=settlement_date, help="Date, YYYY-MM-DD.")],
    reason: Annotated[str, typer.Option(help="Why the stored price is wrong (kept in the audit trail).")],
    gbp: Annotated[str | None, typer.Option(help="The day's BTC price in GBP.")] = None,
    usd: Annotated[str | None, typer.Option(help="The day's BTC price in USD.")] = None,
) -> None:
    """Correct one day's price: overwrite the stored GBP and/or USD price (within the plausible bounds; a
    currency not given keeps its stored value), record who, why, old and new in the audit trail, and
    recompute the summaries of that day, its month and year."""
    if gbp is None and usd is None:
        raise typer.BadParameter("give --gbp, --usd or both")
    why = checked(lambda: checked_name(reason, "the reason", 500))
    new_gbp = None if gbp is None else checked(lambda: decimal_of(gbp, "the GBP price"))
    new_usd = None if usd is None else checked(lambda: decimal_of(usd, "the USD price"))

    async def stored() -> DailyPrice | None:
        from windhash_calculator.settings import CalculatorSettings

        connection = await asyncpg.connect(CalculatorSettings().database_url)
        try:
            return (await prices_between(connection, day, day)).get(day)
        finally:
            await connection.close()

    known = event_loop.run(stored())
    price = DailyPrice(
        day,
        new_gbp if new_gbp is not None else (known.gbp if known else None),
        new_usd if new_usd is not None else (known.usd if known else None),
        "correction",
    )
    _report(event_loop.run(_store([price], why)))


@app.command()
def show(
    start: Annotated[date, typer.Option(parser=settlement_date, help="First date, YYYY-MM-DD.")],
    end: Annotated[date, typer.Option(parser=settlement_date, help="Last date, YYYY-MM-DD.")],
) -> None:
    """Prices by day; a day without one is shown as missing (no fiat value is computed for it)."""
    from windhash_calculator.settings import CalculatorSettings

    async def read() -> dict[date, DailyPrice]:
        settings = CalculatorSettings()
        pool = await create_pool(settings.database_url, max_size=1)
        try:
            async with pool.acquire() as connection:
                return await prices_between(connection, start, end)
        finally:
            await pool.close()

    settlement_span(start, end)
    found = event_loop.run(read())
    table = Table(title="BTC prices")
    for column in ("date", "GBP", "USD", "source"):
        table.add_column(column)
    for day in dates_between(start, end):
        price = found.get(day)
        if price is None:
            table.add_row(day.isoformat(), "[red]missing[/]", "[red]missing[/]", "-")
        else:
            gbp = f"{price.gbp:,}" if price.gbp is not None else "[red]missing[/]"
            usd = f"{price.usd:,}" if price.usd is not None else "[red]missing[/]"
            table.add_row(day.isoformat(), gbp, usd, price.source)
    console.print(table)
