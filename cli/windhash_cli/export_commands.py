"""`windhash export`: the fact or summary tables of a range of settlement dates as a CSV or Parquet file,
streamed in bounded memory (windhash_common.exports), with a progress bar by days."""

from datetime import date
from pathlib import Path
from typing import Annotated

import asyncpg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from windhash_common import event_loop
from windhash_common.exports.export_stream import export_bytes
from windhash_common.exports.export_tables import ExportFormat, ExportKind, export_table
from windhash_common.settings import CommonSettings

from windhash_cli.input_checks import settlement_date, settlement_span

console = Console(stderr=True)


def default_name(what: ExportKind, first: date, last: date, output_format: ExportFormat) -> str:
    return f"windhash-{what.value}-{first}-{last}.{output_format.value}"


async def _export(what: ExportKind, first: date, last: date, output_format: ExportFormat, path: Path) -> int:
    """Writes the export to `path` (through `path.part`, renamed when complete); its size in bytes."""
    partial = path.with_name(path.name + ".part")
    connection = await asyncpg.connect(CommonSettings().database_url)
    written = 0
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        table = await export_table(connection, what, first, last)
        with Progress(*columns, console=console) as progress, partial.open("wb") as file:
            task = progress.add_task(f"{what.value} days", total=(last - first).days + 1)
            pieces = export_bytes(
                connection, table, first, last, output_format, lambda days: progress.advance(task, days)
            )
            async for piece in pieces:
                file.write(piece)
                written += len(piece)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        await connection.close()
    partial.replace(path)
    return written


def export(
    from_date: Annotated[
        date, typer.Option("--from", parser=settlement_date, help="First settlement date, YYYY-MM-DD.")
    ],
    to_date: Annotated[
        date, typer.Option("--to", parser=settlement_date, help="Last settlement date, YYYY-MM-DD.")
    ],
    what: Annotated[
        ExportKind, typer.Option("--what", help="records, calculations or summaries (one row a day).")
    ] = ExportKind.summaries,
    output_format: Annotated[
        ExportFormat, typer.Option("--format", help="csv or parquet.")
    ] = ExportFormat.csv,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (default: windhash-WHAT-FROM-TO.EXT)."),
    ] = None,
) -> None:
    """Export curtailment records, BTC calculations or daily summaries of a range as CSV or Parquet,
    streamed in bounded memory (a whole year included)."""
    settlement_span(from_date, to_date)
    path = output or Path(default_name(what, from_date, to_date, output_format))
    size = event_loop.run(_export(what, from_date, to_date, output_format, path))
    console.print(f"wrote {path} ({size:,} bytes)")
