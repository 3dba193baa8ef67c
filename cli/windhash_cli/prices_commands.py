"""`windhash prices`: daily BTC prices in GBP and USD; a day without a price has no fiat value."""

from datetime import date
from pathlib import Path
from typing import Annotated

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
from windhash_common.settlement_calendar import dates_between

from windhash_cli.input_checks import checked, settlement_date, settlement_span

app = typer.Typer(no_args_is_help=True, help="Daily BTC prices.")
console = Console()


async def _store(prices: list[DailyPrice]) -> PriceWrite:
    from windhash_calculator.settings import CalculatorSettings

    settings = CalculatorSettings()
    await migrate_database(settings.database_url)
    pool = await create_pool(settings.database_url, max_size=1)
    try:
        async with pool.acquire() as connection, connection.transaction():
            return await store_prices(connection, prices, overwrite=True)
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
