"""Repairing summaries: the consumer's recompute, applied day by day, then month by month and year by year.

Safe while the services run: each day, month and year is replaced in its own short transaction under the same
advisory lock the consumer takes for it, and every replacement is computed from the facts committed at that
moment, so whichever of the two writes last leaves the current aggregate.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import asyncpg

from windhash_common.summaries.recompute import recompute_day, recompute_month, recompute_year
from windhash_common.summaries.summary_grains import aligned_range
from windhash_common.summaries.verify import data_bounds

ProgressHook = Callable[[int, int], None]
"""Called with (steps done, steps in total) after each transaction."""


_DAYS_SQL = """
    SELECT settlement_date FROM settlement_periods WHERE settlement_date BETWEEN $1 AND $2
    UNION SELECT settlement_date FROM curtailment_daily WHERE settlement_date BETWEEN $1 AND $2
    UNION SELECT settlement_date FROM bitcoin_daily WHERE settlement_date BETWEEN $1 AND $2
    UNION SELECT settlement_date FROM bitcoin_daily_moments WHERE settlement_date BETWEEN $1 AND $2
    UNION SELECT settlement_date FROM bm_unit_daily WHERE settlement_date BETWEEN $1 AND $2
    UNION SELECT settlement_date FROM lead_party_daily WHERE settlement_date BETWEEN $1 AND $2
    ORDER BY 1"""
_MONTHS_SQL = """
    SELECT DISTINCT date_trunc('month', settlement_date::timestamp)::date FROM settlement_periods
        WHERE settlement_date >= $1 AND settlement_date < $2
    UNION SELECT month FROM curtailment_monthly WHERE month >= $1 AND month < $2
    UNION SELECT month FROM bitcoin_monthly WHERE month >= $1 AND month < $2
    ORDER BY 1"""
_YEARS_SQL = """
    SELECT DISTINCT extract(year FROM settlement_date)::integer FROM settlement_periods
        WHERE settlement_date >= $1 AND settlement_date < $2
    UNION SELECT year FROM curtailment_yearly WHERE year >= extract(year FROM $1::date)
        AND year < extract(year FROM $2::date)
    UNION SELECT year FROM bitcoin_yearly WHERE year >= extract(year FROM $1::date)
        AND year < extract(year FROM $2::date)
    ORDER BY 1"""


async def rebuild_targets(
    connection: asyncpg.Connection, first: date, last: date
) -> tuple[list[date], list[date], list[int]]:
    """The days of `first..last`, and the months and years overlapping them, that have periods or summary
    rows; recomputing any other would change nothing."""
    months, years = aligned_range("month", first, last), aligned_range("year", first, last)
    return (
        [row[0] for row in await connection.fetch(_DAYS_SQL, first, last)],
        [row[0] for row in await connection.fetch(_MONTHS_SQL, months.start, months.end)],
        [row[0] for row in await connection.fetch(_YEARS_SQL, years.start, years.end)],
    )


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
    date any fact or summary refers to when no dates are given. Days, months and years with neither facts
    nor summary rows are passed over: their recompute is empty."""
    async with pool.acquire() as connection:
        if first is None or last is None:
            bounds = await data_bounds(connection)
            if bounds is None:
                return RebuildReport(first, last, 0, 0, 0)
            first, last = first or bounds[0], last or bounds[1]
        days, months, years = await rebuild_targets(connection, first, last)
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
