"""A long `ingest range` streams a chunk at a time: the memory a run holds does not grow with the range (the
report keeps one small row per day), so years cost what a month does. Periods are "ingested" by a stand-in
that publishes at once, so only the range machinery is measured."""

import tracemalloc
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import cast

from windhash_ingestor.backfill import ingest_periods_in_range
from windhash_ingestor.period_ingest import PeriodIngestor, PeriodOutcome, PublishPolicy
from windhash_ingestor.progress_store import PeriodKey, ProgressRow, ProgressStore

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class NothingRecorded:
    async def rows_between(self, first: date, last: date) -> dict[PeriodKey, ProgressRow]:
        return {}

    async def flush(self) -> None:
        pass


class InstantIngestor:
    progress = NothingRecorded()

    async def ingest(self, day: date, period: int, policy: PublishPolicy = "always") -> PeriodOutcome:
        return PeriodOutcome(day, period, "published", 3, Decimal("12.5"), "0" * 64)


async def _peak_bytes(first: date, last: date) -> tuple[int, int]:
    ingestor = cast(PeriodIngestor, InstantIngestor())
    tracemalloc.start()
    try:
        report = await ingest_periods_in_range(
            ingestor, cast(ProgressStore, NothingRecorded()), first, last, workers=8, now=NOW
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, report.total.published


async def test_four_years_take_no_more_memory_than_one_year_beyond_a_row_per_day() -> None:
    one_year, published_one = await _peak_bytes(date(2023, 1, 1), date(2023, 12, 31))
    four_years, published_four = await _peak_bytes(date(2020, 1, 1), date(2023, 12, 31))
    assert published_four == 70_128 and published_one == 17_520
    assert four_years < one_year * 1.5 + 1_000_000, f"{one_year / 1e6:.1f} MB, then {four_years / 1e6:.1f} MB"
