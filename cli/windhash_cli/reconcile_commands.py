"""`windhash reconcile`: Reconciliation: status, analysis, repair by replay."""

import sys
from datetime import date
from types import TracebackType
from typing import Annotated, Self

import asyncpg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from windhash_common import event_loop
from windhash_common.logging_setup import configure_logging
from windhash_common.reconciliation.day_status import DayStatus, ReconciliationReport
from windhash_common.reconciliation.status_queries import reconciliation_status
from windhash_common.settlement_range import date_chunks
from windhash_common.tabular import plain_csv_text
from windhash_reconciler.analysis import Analysis, analyze
from windhash_reconciler.main import serve_until_signalled
from windhash_reconciler.repair import RepairReport, RepairScope, repair
from windhash_reconciler.self_check import locked_self_check
from windhash_reconciler.settings import ReconcilerSettings

from windhash_cli.cli_audit import audit_command
from windhash_cli.input_checks import settlement_date, settlement_period, settlement_span
from windhash_cli.reconciler_wiring import IngestorRefetcher

app = typer.Typer(no_args_is_help=True, help="Reconciliation: status, analysis, repair by replay.")
console = Console()

DateArgument = Annotated[
    date, typer.Argument(parser=settlement_date, metavar="YYYY-MM-DD", help="Settlement date, YYYY-MM-DD.")
]
FromOption = Annotated[
    date | None,
    typer.Option(
        "--from", parser=settlement_date, help="First settlement date (default: earliest with data)."
    ),
]
ToOption = Annotated[
    date | None,
    typer.Option("--to", parser=settlement_date, help="Last settlement date (default: latest with data)."),
]
_CLASS_STYLE = {"complete": "green", "partial": "yellow", "critical": "bold red"}
REPAIR_CHUNK_DAYS = 366


class RichProgress:
    """`RepairProgress` drawn as a rich progress bar, one task per phase."""

    def __init__(self) -> None:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        self._progress = Progress(*columns, console=console)
        self._task: TaskID | None = None

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._finish()
        self._progress.stop()

    def _finish(self) -> None:
        if self._task is not None:
            task = self._progress.tasks[-1]
            total = task.total or task.completed or 1
            self._progress.update(self._task, total=total, completed=total)

    def start(self, phase: str, total: int | None) -> None:
        self._finish()
        self._task = self._progress.add_task(phase, total=total)

    def advance(self, steps: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, steps)


def _ratio(actual: int, expected: int) -> str:
    return f"{actual}/{expected}"


def _day_row(day: DayStatus) -> list[str]:
    style = _CLASS_STYLE[day.day_class]
    return [
        day.settlement_date.isoformat(),
        f"[{style}]{day.day_class}[/]",
        _ratio(day.periods_fetched, day.periods_expected),
        str(day.periods_failed),
        _ratio(day.periods_applied, day.periods_fetched),
        _ratio(day.records_actual, day.records_expected),
        _ratio(day.calculations_actual, day.calculations_expected),
        str(day.periods_pending_difficulty),
        str(day.summary_drift),
    ]


def _status_table(report: ReconciliationReport, days: list[DayStatus]) -> Table:
    table = Table(
        "date", "class", "fetched", "failed", "applied", "records", "calculations", "pending", "drift"
    )
    for day in days:
        table.add_row(*_day_row(day))
    return table


def _rate_line(report: ReconciliationReport) -> str:
    rate = report.calculation_rate
    return (
        f"{report.complete_days}/{len(report.days)} days complete "
        f"([bold]{report.completeness_ratio:.1%}[/]), {report.partial_days} partial, "
        f"{report.critical_days} critical; {report.active_miner_models} active miner models; "
        f"calculations {rate.calculations_present}/{rate.calculations_expected} ([bold]{rate.rate:.2%}[/])"
    )


DAY_COLUMNS = (
    "settlement_date",
    "day_class",
    "periods_expected",
    "periods_fetched",
    "periods_failed",
    "periods_applied",
    "records_expected",
    "records_actual",
    "calculations_expected",
    "calculations_actual",
    "periods_pending_difficulty",
    "summary_drift",
)
RATE_COLUMNS = (
    "miner_model",
    "records",
    "records_pending_difficulty",
    "calculations_expected",
    "calculations_present",
    "reconciliation_rate",
    "days",
    "complete_days",
    "day_completeness",
)


def _rate_rows(report: ReconciliationReport) -> list[tuple[object, ...]]:
    """The predecessor's rate for all models, then per model, each next to the day-completeness."""
    rate = report.calculation_rate
    days = (len(report.days), report.complete_days, report.completeness_ratio)
    counted = [("all", rate.calculations_expected, rate.calculations_present, rate.rate)]
    counted += [
        (model.miner_model, model.calculations_expected, model.calculations_present, model.rate)
        for model in rate.models
    ]
    return [
        (name, rate.records, rate.records_pending_difficulty, expected, present, ratio, *days)
        for name, expected, present, ratio in counted
    ]


async def _status(first: date | None, last: date | None) -> ReconciliationReport:
    connection = await asyncpg.connect(ReconcilerSettings().database_url)
    try:
        return await reconciliation_status(connection, first, last)
    finally:
        await connection.close()


@app.command()
def status(
    from_date: FromOption = None,
    to_date: ToOption = None,
    all_days: Annotated[bool, typer.Option("--all-days", help="List complete days too.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="The days as CSV (every day).")] = False,
) -> None:
    """Per date, expected vs actual at each stage, the day's class and the overall completeness rate."""
    settlement_span(from_date, to_date)
    report = event_loop.run(_status(from_date, to_date))
    if as_csv:
        rows = [[getattr(day, column) for column in DAY_COLUMNS] for day in report.days]
        sys.stdout.write(plain_csv_text(DAY_COLUMNS, rows))
        return
    if not report.days:
        console.print("nothing to reconcile: no settlement days with data in that range")
        return
    shown = report.days if all_days else [day for day in report.days if day.day_class != "complete"]
    if shown:
        console.print(_status_table(report, shown))
    console.print(_rate_line(report))


@app.command("rate")
def rate_command(
    from_date: FromOption = None,
    to_date: ToOption = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV instead of a table.")] = False,
) -> None:
    """The predecessor's reconciliation rate, calculations present / (records × active miner models),
    overall and per model, next to the day-completeness (complete days / days)."""
    settlement_span(from_date, to_date)
    report = event_loop.run(_status(from_date, to_date))
    rows = _rate_rows(report)
    if as_csv:
        sys.stdout.write(plain_csv_text(RATE_COLUMNS, rows))
        return
    table = Table("miner model", "records", "pending", "expected", "present", "rate", "days complete")
    for row in rows:
        name, records, pending, expected, present, rate, days, complete, ratio = row
        table.add_row(
            str(name),
            str(records),
            str(pending),
            str(expected),
            str(present),
            f"{rate:.2%}",
            f"{complete}/{days} ({ratio:.1%})",
        )
    console.print(table)


def _print_analysis(analysis: Analysis) -> None:
    if not analysis.worst:
        console.print("[green]every day is complete[/]")
    for entry in analysis.worst:
        day = entry.day
        console.print(f"[{_CLASS_STYLE[day.day_class]}]{day.settlement_date} {day.day_class}[/]")
        table = Table("gap", "periods", "detail")
        for gap in entry.gaps:
            periods = ", ".join(str(period) for period in gap.periods[:12])
            more = f" (+{len(gap.periods) - 12})" if len(gap.periods) > 12 else ""
            table.add_row(gap.kind, periods + more, gap.detail)
        console.print(table)
    console.print(_rate_line(analysis.report) + f"; {analysis.dead_letters} dead letters in range")


@app.command("analyze")
def analyze_command(
    from_date: FromOption = None,
    to_date: ToOption = None,
    worst: Annotated[int, typer.Option(min=1, help="How many of the worst days to explain.")] = 10,
) -> None:
    """The worst days and the reason for each gap: failed fetch, pending difficulty, missing calculation,
    summary drift, dead-lettered event."""
    settlement_span(from_date, to_date)
    analysis = event_loop.run(analyze(ReconcilerSettings(), from_date, to_date, worst))
    _print_analysis(analysis)


def _before_after(result: RepairReport) -> Table:
    table = Table("date", "before", "after", "fetched", "records", "calculations", "drift")
    after = {day.settlement_date: day for day in result.after.days}
    for before in result.before.days:
        now = after.get(before.settlement_date, before)
        table.add_row(
            before.settlement_date.isoformat(),
            f"[{_CLASS_STYLE[before.day_class]}]{before.day_class}[/]",
            f"[{_CLASS_STYLE[now.day_class]}]{now.day_class}[/]",
            f"{before.periods_fetched} → {now.periods_fetched}/{now.periods_expected}",
            f"{before.records_actual} → {now.records_actual}/{now.records_expected}",
            f"{before.calculations_actual} → {now.calculations_actual}/{now.calculations_expected}",
            f"{before.summary_drift} → {now.summary_drift}",
        )
    return table


def _run_repair(scope: RepairScope) -> None:
    if not _repair_and_report(scope):
        raise typer.Exit(1)


def _repair_and_report(scope: RepairScope) -> bool:
    """Repair `scope` and print what changed; whether every day of it is complete afterwards."""
    configure_logging("WARNING", False)
    with RichProgress() as progress:
        result = event_loop.run(repair(ReconcilerSettings(), scope, IngestorRefetcher(), progress))
    if result is None:
        console.print("nothing to reconcile: no data and no events")
        return True
    console.print(_before_after(result))
    failed = [outcome for outcome in result.refetched if outcome.status == "failed"]
    console.print(
        f"read {result.messages_read} events; re-fetched {len(result.refetched)} periods from Elexon "
        f"({len(failed)} failed); replayed {len(result.replayed)} periods; recomputed summaries of "
        f"{len(result.summaries.days) if result.summaries else 0} days"
    )
    if result.not_in_topic:
        console.print(
            f"[red]{len(result.not_in_topic)} stored periods are in no event and could not be fetched"
        )
    console.print("before: " + _rate_line(result.before))
    console.print("after:  " + _rate_line(result.after))
    target = f"{result.first}..{result.last}"
    audit_command(
        "reconcile.repair",
        "settlement-dates",
        target,
        {"completeness_ratio": result.before.completeness_ratio},
        {
            "completeness_ratio": result.after.completeness_ratio,
            "refetched": len(result.refetched),
            "replayed": len(result.replayed),
            "summary_days": len(result.summaries.days) if result.summaries else 0,
        },
    )
    return result.after.completeness_ratio >= 1.0


@app.command("date")
def date_command(day: DateArgument) -> None:
    """Repair one settlement date by replaying the topic (re-fetching only what it does not hold)."""
    _run_repair(RepairScope(day, day))


@app.command("range")
def range_command(first: DateArgument, last: DateArgument) -> None:
    """Repair every settlement date from FIRST to LAST (both included)."""
    settlement_span(first, last)
    # A year at a time: what a repair holds in memory (the latest event of every period in scope, the
    # expected rows) is one year's, however long the range.
    complete = True
    for chunk in date_chunks(first, last, REPAIR_CHUNK_DAYS):
        if chunk.days < (last - first).days + 1:
            console.print(f"[bold]{chunk.first} .. {chunk.last}[/]")
        complete = _repair_and_report(RepairScope(chunk.first, chunk.last)) and complete
    if not complete:
        raise typer.Exit(1)


@app.command("period")
def period_command(
    day: DateArgument, period: Annotated[int, typer.Argument(min=1, help="Settlement period.")]
) -> None:
    """Repair one settlement period of a date (1 to its 46, 48 or 50)."""
    _run_repair(RepairScope(day, day, settlement_period(day, period)))


@app.command("all")
def all_command() -> None:
    """Repair every date the database or the settlement-period topic knows about."""
    _run_repair(RepairScope())


@app.command("self-check")
def self_check_command(
    loop: Annotated[
        bool,
        typer.Option(help="Keep running every WINDHASH_SELF_CHECK_INTERVAL_SECONDS: `windhash reconciler`."),
    ] = False,
) -> None:
    """Re-check recent days against Elexon for revisions, reconcile the previous month once a day; one
    instance at a time (others skip)."""
    settings = ReconcilerSettings()
    configure_logging(settings.log_level, settings.log_json)
    if loop:
        event_loop.run(serve_until_signalled(settings, IngestorRefetcher()))
        return
    run = event_loop.run(locked_self_check(settings, IngestorRefetcher()))
    if not run.ran or run.report is None:
        console.print("another instance is running the self-check: skipped")
        return
    report = run.report
    console.print(
        f"self-check {report.first}..{report.last}: {report.fetch_outcomes}, "
        f"{len(report.republished)} periods republished, completeness {report.completeness_ratio:.1%}"
    )
