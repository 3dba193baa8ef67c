"""The final table of `windhash ingest` must stay whole in an 80-column terminal, even for a whole year:
the demo once printed every date and MWh cut to "2024…"."""

from datetime import date
from decimal import Decimal

from rich.console import Console
from windhash_cli.ingest_commands import _report_table
from windhash_ingestor.ingest_report import DayReport, IngestReport


def test_a_whole_year_fits_eighty_columns_without_cutting_a_figure() -> None:
    first, last = date(2024, 1, 1), date(2024, 12, 31)
    # Two rows whose sum is as wide as a whole year's total can get.
    clock_change = DayReport(
        date(2024, 10, 27), 50, published=49, failed=1, records=3633, energy_mwh=Decimal("57912.125")
    )
    rest = DayReport(
        date(2024, 12, 31),
        17568,
        published=17567,
        failed=1,
        records=536198,
        energy_mwh=Decimal("8217655.500"),
    )
    report = IngestReport(first, last, (clock_change, rest), ())
    console = Console(width=80, record=True)
    console.print(_report_table(report))
    text = console.export_text()

    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    total = next(line for line in text.splitlines() if line.startswith("total"))
    # periods, new, same, skipped, failed, pending, records, MWh: the sums of the two days
    assert total.split() == ["total", "17618", "17616", "0", "0", "2", "0", "539831", "8,275,567.625"]
