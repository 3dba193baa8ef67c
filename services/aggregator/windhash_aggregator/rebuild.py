"""Repairing summaries: the consumer's recompute, applied day by day, then month by month and year by year.

Safe while the services run: each day, month and year is replaced in its own short transaction under the same
advisory lock the consumer takes for it, and every replacement is computed from the facts committed at that
moment, so whichever of the two writes last leaves the current aggregate.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import asyncpg

from windhash_aggregator.recompute import recompute_day, recompute_month, recompute_year
from windhash_aggregator.summary_grains import aligned_range
from windhash_aggregator.verify import data_bounds

ProgressHook = Callable[[int, int], None]
"""Called with (steps done, steps in total) after each transaction."""


@dataclass(frozen=True)
class RebuildReport:
    first: date | None
    last: date | None
    days: int
    months: int
    years: int


async def rebuild_summaries(
    pool: asyncpg.Pool,
    first: date | None = None,
    last: date | None = None,
    on_progress: ProgressHook | None = None,
) -> RebuildReport:
    """Recompute the daily rows of `first..last` and the monthly and yearly rows overlapping them; every
    date any fact or summary refers to when no dates are given."""
    async with pool.acquire() as connection:
        if first is None or last is None:
            bounds = await data_bounds(connection)
            if bounds is None:
                return RebuildReport(first, last, 0, 0, 0)
            first, last = first or bounds[0], last or bounds[1]
        days = aligned_range("day", first, last).days()
        months = sorted({day.replace(day=1) for day in days})
        years = sorted({day.year for day in days})
        total = len(days) + len(months) + len(years)
        done = 0

        def advance() -> None:
            nonlocal done
            done += 1
            if on_progress is not None:
                on_progress(done, total)

        for day in days:
            async with connection.transaction():
                await recompute_day(connection, day)
            advance()
        for month in months:
            async with connection.transaction():
                await recompute_month(connection, month)
            advance()
        for year in years:
            async with connection.transaction():
                await recompute_year(connection, year)
            advance()
    return RebuildReport(first, last, len(days), len(months), len(years))
