"""`windhash difficulty`: Bitcoin network difficulty history (DynamoDB), and completing the periods waiting
for it."""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from windhash_common import event_loop
from windhash_common.db import create_pool, migrate_database
from windhash_common.difficulty_store import open_difficulty_store, read_difficulty_file
from windhash_common.input_values import checked_name, decimal_of

from windhash_cli.input_checks import checked, settlement_date
from windhash_cli.reference_corrections import audit_difficulty_changes, recalculate_difficulty_days

app = typer.Typer(no_args_is_help=True, help="Bitcoin network difficulty history (DynamoDB).")
console = Console()


async def _store_and_complete(
    values: dict[date, Decimal], source: str, overwrite: bool = False, reason: str | None = None
) -> int:
    """Store the plausible values (replacing stored ones when `overwrite`: audited, then recalculated by
    replay) and complete what waited for them; returns how many were refused."""
    from windhash_calculator.pending_periods import complete_pending_periods
    from windhash_calculator.settings import CalculatorSettings

    settings = CalculatorSettings()
    async with open_difficulty_store(settings) as store:
        await store.ensure_table()
        with console.status(f"writing {len(values)} days of difficulty to {settings.difficulty_table}"):
            written = await store.add_difficulties(values, source, overwrite)
        console.print(
            f"difficulty: {len(written.written)} days written, {len(written.unchanged)} already present,"
            f" {len(written.refused)} refused, {len(written.replaced)} replaced"
        )
        for day, (stored, offered) in sorted(written.conflicts.items()):
            console.print(f"[yellow]kept[/] {day}: stored {stored}, the source says {offered} (--overwrite)")
        for day, (old, new) in sorted(written.replaced.items()):
            console.print(f"[yellow]replaced[/] {day}: {old} → {new}")
        for day, reason_refused in written.refused.items():
            console.print(f"[red]refused[/] {day}: {reason_refused}")
        await migrate_database(settings.database_url)
        changes: dict[date, tuple[Decimal | None, Decimal]] = dict(written.replaced)
        if reason is not None:  # `set` audits a day it adds too
            changes.update({day: (None, values[day]) for day in written.written})
        if changes:
            await audit_difficulty_changes(settings, changes, reason or "difficulty load --overwrite", source)
        pool = await create_pool(settings.database_url, max_size=2)
        try:
            with console.status("completing periods that were waiting for difficulty"):
                outcome = await complete_pending_periods(pool, store, settings.topics, settings.halvings())
        finally:
            await pool.close()
    console.print(
        f"pending periods: {len(outcome.completed)} completed ({outcome.calculations} calculations), "
        f"{outcome.still_pending} still waiting"
    )
    if written.replaced:
        await _recalculate(sorted(written.replaced))
    return len(written.refused)


async def _recalculate(days: list[date]) -> None:
    from windhash_reconciler.settings import ReconcilerSettings

    settings = ReconcilerSettings()
    with console.status(
        f"waiting {settings.difficulty_cache_seconds:g} s for running calculators to drop the old values,"
        " then replaying the affected periods"
    ):
        done = await recalculate_difficulty_days(days, settings)
    console.print(
        f"recalculated by replay: {len(done.periods)} periods, summaries of {len(done.summary_days)} days"
    )


def _exit_if_refused(refused: int) -> None:
    if refused:
        console.print(
            f"[red]{refused} implausible values refused (bounds: windhash_common.reference_bounds)[/]"
        )
        raise typer.Exit(2)


@app.command()
def load(
    file: Path | None = typer.Argument(
        None, help='{"YYYY-MM-DD": "difficulty"} JSON; default: the 2024 file.'
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace stored values that differ (audited, then recalculated by replay)."
    ),
    reason: str | None = typer.Option(None, help="Why, for the audit trail of replaced values."),
) -> None:
    """Seed difficulty from a file (default: the packaged 2024 reference), then complete pending periods. A
    day already stored with another value is reported and kept, or replaced with --overwrite."""
    values = checked(lambda: read_difficulty_file(file))
    why = None if reason is None else checked(lambda: checked_name(reason, "the reason", 500))
    source = f"file:{file.name}" if file else "windhash:2024-reference"
    _exit_if_refused(event_loop.run(_store_and_complete(values, source, overwrite, why)))


@app.command("set")
def set_command(
    day: Annotated[date, typer.Argument(parser=settlement_date, help="UTC date, YYYY-MM-DD.")],
    value: Annotated[str, typer.Argument(help="The day's network difficulty.", show_default=False)],
    reason: str = typer.Option(..., help="Why the stored value is wrong (kept in the audit trail)."),
) -> None:
    """Correct one day's difficulty: overwrite the stored value (within the plausible bounds), record who,
    why, old and new in the audit trail, and recalculate exactly the affected periods and summaries by
    replay."""
    difficulty = checked(lambda: decimal_of(value, "the difficulty"))
    why = checked(lambda: checked_name(reason, "the reason", 500))
    _exit_if_refused(event_loop.run(_store_and_complete({day: difficulty}, "cli:set", True, why)))


@app.command()
def sync(
    period: str = typer.Option("1y", help="How far back: 1m, 3m, 6m, 1y, 2y, 3y or all."),
    until: Annotated[
        date | None, typer.Option(parser=settlement_date, help="Last UTC date to fill (default: today).")
    ] = None,
) -> None:
    """Fetch difficulty adjustments from the explorer (mempool.space API at WINDHASH_EXPLORER_URL), store
    one value per UTC day (the one in effect at 00:00 UTC), then complete pending periods."""
    from windhash_common.market_sources.explorer import ExplorerClient
    from windhash_common.market_sources.settings import MarketSourceSettings

    settings = MarketSourceSettings()
    last = until or datetime.now(UTC).date()

    async def fetch() -> dict[date, Decimal]:
        async with ExplorerClient(settings.explorer_url, settings.fetch_limits()) as explorer:
            return await explorer.daily_difficulties(period, last)

    values = event_loop.run(fetch())
    console.print(f"fetched {len(values)} days from {settings.explorer_url}")
    _exit_if_refused(event_loop.run(_store_and_complete(values, source=settings.explorer_url)))


@app.command()
def show(
    days: Annotated[list[date], typer.Argument(parser=settlement_date, help="UTC dates, YYYY-MM-DD.")],
) -> None:
    """The stored difficulty of each date (read by key), or that it is missing."""
    from windhash_calculator.settings import CalculatorSettings

    async def read() -> dict[date, Decimal]:
        async with open_difficulty_store(CalculatorSettings()) as store:
            await store.ensure_table()
            return await store.difficulties(days)

    found = event_loop.run(read())
    for day in sorted(days):
        console.print(f"{day}: {found[day]:f}" if day in found else f"{day}: [red]missing[/]")
