"""Bringing summaries back to the facts after a replay: the summaries' recompute, one key per transaction.

The days recomputed are the ones replayed plus any whose summaries the aggregator's verify finds drifted;
their months and years are recomputed from the facts (as `windhash summaries rebuild` does), so a drifted
month is repaired even when none of its days was.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import asyncpg
from windhash_common.summaries.recompute import recompute_day, recompute_month, recompute_year
from windhash_common.summaries.summary_grains import month_start
from windhash_common.summaries.verify import SummaryDrift, verify_summaries

from windhash_reconciler.progress_hooks import RepairProgress


@dataclass(frozen=True)
class SummaryRepair:
    days: tuple[date, ...]
    months: tuple[date, ...]
    years: tuple[int, ...]
    drifted_rows: int


def drift_keys(drift: Iterable[SummaryDrift]) -> tuple[set[date], set[date], set[int]]:
    days: set[date] = set()
    months: set[date] = set()
    years: set[int] = set()
    for item in drift:
        column, value = item.key[0]
        if column == "settlement_date":
            days.add(date.fromisoformat(value))
        elif column == "month":
            months.add(month_start(date.fromisoformat(value)))
        elif column == "year":
            years.add(int(value))
    return days, months, years


async def repair_summaries(
    pool: asyncpg.Pool, first: date, last: date, replayed_days: Iterable[date], progress: RepairProgress
) -> SummaryRepair:
    async with pool.acquire() as connection:
        drift = await verify_summaries(connection, first, last)
        days, months, years = drift_keys(drift)
        days.update(replayed_days)
        months.update(month_start(day) for day in days)
        years.update(day.year for day in days)
        total = len(days) + len(months) + len(years)
        progress.start("recomputing summaries", total)
        for day in sorted(days):
            async with connection.transaction():
                await recompute_day(connection, day)
            progress.advance()
        for month in sorted(months):
            async with connection.transaction():
                await recompute_month(connection, month)
            progress.advance()
        for year in sorted(years):
            async with connection.transaction():
                await recompute_year(connection, year)
            progress.advance()
    return SummaryRepair(tuple(sorted(days)), tuple(sorted(months)), tuple(sorted(years)), len(drift))
