"""`windhash ingest`: fetch Elexon settlement data and publish settlement-period events."""

import asyncio
import signal
from datetime import date
from typing import TYPE_CHECKING

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from windhash_common import event_loop
from windhash_common.logging_setup import configure_logging

from windhash_cli.input_checks import settlement_date, settlement_span

if TYPE_CHECKING:  # the service is imported when a command runs, not when the CLI starts
    from windhash_ingestor.ingest_report import IngestReport
    from windhash_ingestor.settings import IngestorSettings
    from windhash_ingestor.wind_output import WindOutputReport

app = typer.Typer(
    no_args_is_help=True, help="Fetch Elexon settlement data and publish settlement-period events."
)

_DATE = typer.Argument(..., parser=settlement_date, show_default=False, metavar="YYYY-MM-DD")
_FORCE = typer.Option(False, "--force", help="Fetch and publish periods already ingested ok.")
_VERBOSE = typer.Option(False, "--verbose", "-v", help="Log every retry and failure as it happens.")
MAX_FAILURES_LISTED = 20
_FIRST_OPTION = typer.Option(..., "--from", parser=settlement_date, help="First settlement date, YYYY-MM-DD.")
_LAST_OPTION = typer.Option(..., "--to", parser=settlement_date, help="Last settlement date, YYYY-MM-DD.")


@app.command("date")
def ingest_date(day: date = _DATE, force: bool = _FORCE, verbose: bool = _VERBOSE) -> None:
    """Ingest every settlement period of one day (46, 48 or 50 of them)."""
    _ingest(day, day, force, verbose)


@app.command("range")
def ingest_range(
    first: date = _DATE, last: date = _DATE, force: bool = _FORCE, verbose: bool = _VERBOSE
) -> None:
    """Ingest every settlement period from FIRST to LAST (both included), resuming an earlier run."""
    settlement_span(first, last)
    _ingest(first, last, force, verbose)


@app.command("follow")
def follow() -> None:
    """Run the ingestor service: poll today and yesterday, re-check the last week for revisions."""
    from windhash_ingestor.main import run

    run()


def _ingest(first: date, last: date, force: bool, verbose: bool) -> None:
    from windhash_ingestor.ingest_report import REFUSED_BY_CALCULATOR
    from windhash_ingestor.main import quiet_http_logs
    from windhash_ingestor.progress_store import ProgressUnavailable
    from windhash_ingestor.settings import IngestorSettings

    settings = IngestorSettings()
    configure_logging(settings.log_level if verbose else "WARNING", settings.log_json)
    quiet_http_logs()
    console = Console(stderr=True)
    try:
        report = _run_with_progress(console, first, last, force, settings)
    except ProgressUnavailable as error:
        # What was recorded stays recorded; periods published without an ok row are simply fetched again.
        console.print(f"[red]error[/red] {error}; run the same command again to resume")
        raise typer.Exit(code=1) from None
    except (KeyboardInterrupt, asyncio.CancelledError) as stop:
        # Each publish under way finished and its progress was written (period_ingest, backfill.run_periods).
        console.print(
            "[yellow]stopped[/yellow]: every period Kafka acknowledged is recorded; run the same "
            "command again to resume"
        )
        raise typer.Exit(code=130 if isinstance(stop, KeyboardInterrupt) else 143) from None
    Console().print(_report_table(report))
    for failure in report.failures[:MAX_FAILURES_LISTED]:
        console.print(
            f"[red]failed[/red] {failure.settlement_date} P{failure.settlement_period}: {failure.error}"
        )
    failed = report.total.failed
    if failed > MAX_FAILURES_LISTED:
        console.print(f"... and {failed - MAX_FAILURES_LISTED} more failed periods")
    if not report.succeeded:
        console.print(f"[red]{failed} period(s) failed[/red]; run the same command again to retry them")
        if any((failure.error or "").startswith(REFUSED_BY_CALCULATOR) for failure in report.failures):
            console.print(
                "periods the calculator refused need corrected reference data: `windhash difficulty set` or"
                " `windhash prices set` recalculates them"
            )
        raise typer.Exit(code=1)


def _run_with_progress(
    console: Console, first: date, last: date, force: bool, settings: "IngestorSettings"
) -> "IngestReport":
    from windhash_ingestor.backfill import ingest_range as run_range
    from windhash_ingestor.period_ingest import PeriodOutcome

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("failed {task.fields[failed]}"),
        TimeElapsedColumn(),
        console=console,
        # Each redraw costs about 1.3 ms of CPU in the ingesting process; twice a second is plenty for a bar.
        refresh_per_second=2,
    ) as progress:
        task = progress.add_task(f"ingest {first}..{last}", total=None, failed=0)
        failed = 0

        def planned(total: int) -> None:
            progress.update(task, total=total)

        def done(outcome: PeriodOutcome) -> None:
            nonlocal failed
            failed += outcome.status == "failed"
            progress.update(task, advance=1, failed=failed)

        return event_loop.run(
            run_range(settings, first, last, force, on_plan=planned, on_outcome=done),
            cancel_on=(signal.SIGTERM,),
        )


def _report_table(report: "IngestReport") -> Table:
    # Fits an 80-column terminal even for a whole year (one space between columns): a truncated date or MWh
    # ("2024…") would make the table useless.
    table = Table(
        title=f"Ingested {report.first} .. {report.last}",
        caption="new: published · same: fetched again, unchanged · skipped: already ok before this run",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=(0, 0),
    )
    table.add_column("date", no_wrap=True)
    for column in ("periods", "new", "same", "skipped", "failed", "pending", "records", "MWh"):
        table.add_column(column, justify="right", no_wrap=True)
    for day in (*report.days, report.total):
        style = "bold" if day.settlement_date is None else ("red" if day.failed else None)
        table.add_row(
            "total" if day.settlement_date is None else day.settlement_date.isoformat(),
            str(day.periods),
            str(day.published),
            str(day.unchanged),
            str(day.skipped),
            str(day.failed),
            str(day.pending),
            str(day.records),
            f"{day.energy_mwh:,.3f}",
            style=style,
            end_section=day is report.days[-1],
        )
    return table


@app.command("wind-output")
def ingest_wind_output(first: date = _FIRST_OPTION, last: date = _LAST_OPTION) -> None:
    """Fetch wind output per settlement period (Elexon FUELHH wind and AGWS offshore/onshore wind), the
    denominator of the curtailed share of wind output; a day at a time, replacing what is stored."""
    from windhash_common.db import create_pool, migrate_database
    from windhash_ingestor.elexon_client import ElexonClient
    from windhash_ingestor.settings import IngestorSettings
    from windhash_ingestor.wind_output import ingest_wind_output

    settlement_span(first, last)
    settings = IngestorSettings()

    async def run() -> "WindOutputReport":
        await migrate_database(settings.database_url)
        pool = await create_pool(settings.database_url, min_size=1, max_size=2)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        try:
            async with ElexonClient(settings) as client:
                with Progress(*columns, console=Console(stderr=True)) as progress:
                    task = progress.add_task("wind output days", total=(last - first).days + 1)
                    return await ingest_wind_output(client, pool, first, last, lambda: progress.advance(task))
        finally:
            await pool.close()

    report = event_loop.run(run())
    typer.echo(f"{report.periods} periods of wind output stored over {report.days} days")
    for problem in [*report.skipped[:20], *report.failed]:
        typer.echo(problem, err=True)
    if report.skipped:
        typer.echo(f"{len(report.skipped)} rows skipped; the rest stored", err=True)
    if report.failed:
        typer.echo(f"{len(report.failed)} days failed: run the command again for them", err=True)
        raise typer.Exit(code=1)
