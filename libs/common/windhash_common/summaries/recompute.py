"""Recomputing summaries from the facts: replace-by-key (delete the range, insert the aggregate) in SQL.

Everything here runs inside the caller's transaction, so a day and its month and year change together or
not at all. Writers of the same summary key (the consumer, `summaries rebuild`, several aggregator
instances) serialise on transaction-scoped advisory locks, one per day, month and year, always taken in the
order days → months → years and ascending within each, so two writers can never deadlock. The consumer rolls
months and years up from the daily rows it has just made current (`summary_rollups`); `summaries rebuild`
recomputes them from the facts.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import asyncpg

from windhash_common.calculation_lock import lock_calculations_exclusive
from windhash_common.summaries.summary_grains import (
    DateRange,
    Grain,
    contiguous_runs,
    day_range,
    month_range,
    months_of,
    year_range,
    years_of,
)
from windhash_common.summaries.summary_tables import BITCOIN_PERIOD_TOTALS, DAY_INSERTS, TABLES_BY_GRAIN

# First key of pg_advisory_xact_lock(int, int): which kind of summary key the second one names.
_LOCK_CLASS: dict[Grain, int] = {"day": 0x57480001, "month": 0x57480002, "year": 0x57480003}


@dataclass(frozen=True)
class RecomputedScope:
    days: tuple[date, ...]
    months: tuple[date, ...]
    years: tuple[int, ...]


def lock_key(grain: Grain, day: date) -> tuple[int, int]:
    """The advisory lock naming the day, month or year that contains `day`."""
    if grain == "day":
        return (_LOCK_CLASS["day"], day.toordinal())
    if grain == "month":
        return (_LOCK_CLASS["month"], day.year * 12 + day.month - 1)
    return (_LOCK_CLASS["year"], day.year)


def _require_transaction(connection: asyncpg.Connection) -> None:
    if not connection.is_in_transaction():
        raise RuntimeError(
            "summary recomputes must run inside a transaction (their locks are transaction-scoped)"
        )


async def lock_summary_keys(
    connection: asyncpg.Connection, days: Sequence[date], months: Sequence[date], years: Sequence[int]
) -> None:
    """Take the advisory locks for these keys in the one global order; held until the transaction ends."""
    _require_transaction(connection)
    keys = (
        [lock_key("day", day) for day in sorted(days)]
        + [lock_key("month", month) for month in sorted(months)]
        + [lock_key("year", date(year, 1, 1)) for year in sorted(years)]
    )
    for class_id, object_id in keys:
        await connection.execute("SELECT pg_advisory_xact_lock($1, $2)", class_id, object_id)


async def replace_range(
    connection: asyncpg.Connection, grain: Grain, dates: DateRange, from_facts: bool = True
) -> None:
    """Replace every `grain` summary row keyed inside `dates` with the aggregate of the facts there, or for
    months and years with `from_facts=False`, of the daily rows there (`summary_rollups`). Callers hold the
    locks for the keys in the range."""
    _require_transaction(connection)
    tables = TABLES_BY_GRAIN[grain]
    for table in tables:
        await connection.execute(table.delete_sql, dates.start, dates.end)
    inserts = DAY_INSERTS if grain == "day" else [table.insert_sql(from_facts) for table in tables]
    for insert in inserts:
        await connection.execute(insert, dates.start, dates.end)


async def recompute_days_and_rollups(connection: asyncpg.Connection, days: Iterable[date]) -> RecomputedScope:
    """Lock and recompute the given days from the facts, then each month and year they fall in from the
    daily rows (see `summary_rollups`), in the caller's transaction: the consumer's recompute."""
    distinct_days = sorted(set(days))
    months = months_of(distinct_days)
    years = years_of(distinct_days)
    await lock_summary_keys(connection, distinct_days, months, years)
    for run in contiguous_runs(distinct_days):
        await replace_range(connection, "day", run)
    for month in months:
        await replace_range(connection, "month", month_range(month), from_facts=False)
    for year in years:
        await replace_range(connection, "year", year_range(year), from_facts=False)
    return RecomputedScope(tuple(distinct_days), tuple(months), tuple(years))


async def recompute_day(connection: asyncpg.Connection, day: date) -> None:
    """Lock and recompute one day's daily rows only (its month and year are left to the caller): the repair
    path, so the day's per-period totals are recomputed from the calculations first rather than trusted."""
    await lock_summary_keys(connection, [day], [], [])
    # Exclusive: a calculator batch committing between the delete and the insert would otherwise be
    # counted twice (its trigger's totals and the insert's) or collide with them.
    await lock_calculations_exclusive(connection)
    dates = day_range(day)
    await connection.execute(BITCOIN_PERIOD_TOTALS.delete_sql, dates.start, dates.end)
    await connection.execute(BITCOIN_PERIOD_TOTALS.insert_sql(), dates.start, dates.end)
    await replace_range(connection, "day", dates)


async def recompute_month(connection: asyncpg.Connection, month: date) -> None:
    """Lock and recompute the monthly rows of the month containing `month` from the facts."""
    await lock_summary_keys(connection, [], [month], [])
    await replace_range(connection, "month", month_range(month))


async def recompute_year(connection: asyncpg.Connection, year: int) -> None:
    await lock_summary_keys(connection, [], [], [year])
    await replace_range(connection, "year", year_range(year))
