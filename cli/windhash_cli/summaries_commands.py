"""`windhash summaries`: Check and repair the summary tables."""

from collections import Counter
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from windhash_common import event_loop
from windhash_common.db import create_pool
from windhash_common.settings import CommonSettings
from windhash_common.summaries.rebuild import RebuildReport, rebuild_summaries
from windhash_common.summaries.verify import SummaryDrift, verify_settled

from windhash_cli.input_checks import settlement_date, settlement_span

app = typer.Typer(no_args_is_help=True, help="Check and repair the summary tables.")

FromOption = Annotated[
    date | None,
    typer.Option("--from", parser=settlement_date, help="First settlement date (default: earliest)."),
]
ToOption = Annotated[
    date | None,
    typer.Option("--to", parser=settlement_date, help="Last settlement date (default: latest)."),
]


async def _verify(first: date | None, last: date | None, settle_seconds: float) -> list[SummaryDrift]:
    pool = await create_pool(CommonSettings().database_url, min_size=1, max_size=1)
    try:
        return await verify_settled(pool, first, last, settle_seconds)
    finally:
        await pool.close()


def _print_drift(console: Console, drift: list[SummaryDrift], limit: int) -> None:
    by_table = Counter(item.table for item in drift)
    console.print(
        f"[bold red]drift in {len(drift)} summary rows[/]: "
        + ", ".join(f"{table} {count}" for table, count in sorted(by_table.items()))
    )
    table = Table("table", "key", "kind", "differs")
    for item in drift[:limit]:
        table.add_row(item.table, item.key_text, item.kind, item.describe().partition("]: ")[2])
    console.print(table)
    if len(drift) > limit:
        console.print(f"… and {len(drift) - limit} more (raise --limit to list them)")


@app.command()
def verify(
    from_date: FromOption = None,
    to_date: ToOption = None,
    settle_seconds: Annotated[
        float,
        typer.Option(help="Re-check drift after this pause and report only what persists (0: no re-check)."),
    ] = 2.0,
    limit: Annotated[int, typer.Option(help="List at most this many drifted rows.")] = 50,
) -> None:
    """Compare every summary row with a recompute from the facts; exit 1 when any differs."""
    settlement_span(from_date, to_date)
    console = Console()
    drift = event_loop.run(_verify(from_date, to_date, settle_seconds))
    if not drift:
        console.print("[green]no drift[/]: every summary row equals its recompute from the facts")
        return
    _print_drift(console, drift, limit)
    raise typer.Exit(1)


async def _rebuild(first: date | None, last: date | None, progress: Progress) -> RebuildReport:
    task = progress.add_task("recomputing summaries", total=None)

    def advance(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    pool = await create_pool(CommonSettings().database_url, min_size=1, max_size=1)
    try:
        return await rebuild_summaries(pool, first, last, advance)
    finally:
        await pool.close()


@app.command()
def rebuild(from_date: FromOption = None, to_date: ToOption = None) -> None:
    """Recompute the summaries of a date range (and its months and years) from the facts; safe while the
    services run."""
    settlement_span(from_date, to_date)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns) as progress:
        report = event_loop.run(_rebuild(from_date, to_date, progress))
    if report.first is None:
        typer.echo("nothing to rebuild: no facts and no summaries")
        return
    last = report.last or report.first
    typer.echo(
        f"rebuilt {report.days} days, {report.months} months, {report.years} years "
        f"({report.first.isoformat()} to {last.isoformat()})"
    )
