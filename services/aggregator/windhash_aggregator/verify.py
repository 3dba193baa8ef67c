"""Checking every summary row against a recompute from the facts, without writing anything.

For each table the query in `summary_tables` is evaluated over the range being checked and full-outer-joined
to the stored rows on the table's key: a key only the facts have is `missing`, a key only the table has is
`unexpected`, and a key whose values differ is `different` (with the columns that differ). All tables are
read in one REPEATABLE READ snapshot. While the services run, a period the calculator has just committed may
not be aggregated yet; `verify_settled` therefore re-checks after a pause and reports only drift that
persisted.
"""

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import asyncpg

from windhash_aggregator.summary_grains import DateRange, aligned_range
from windhash_aggregator.summary_tables import ALL_TABLES, SummaryTable

DriftKind = Literal["missing", "unexpected", "different"]


@dataclass(frozen=True)
class SummaryDrift:
    table: str
    key: tuple[tuple[str, str], ...]
    """(column, value) pairs of the row's key, values rendered as text."""
    kind: DriftKind
    columns: tuple[str, ...]
    """The value columns that differ (all of them for a missing or unexpected row)."""
    expected: dict[str, Any] | None
    stored: dict[str, Any] | None

    @property
    def key_text(self) -> str:
        return ", ".join(f"{column}={value}" for column, value in self.key)

    def describe(self) -> str:
        if self.kind != "different" or self.expected is None or self.stored is None:
            return f"{self.table} [{self.key_text}]: {self.kind} row"
        changes = "; ".join(
            f"{column}: stored {self.stored[column]} expected {self.expected[column]}"
            for column in self.columns
        )
        return f"{self.table} [{self.key_text}]: {changes}"


_BOUNDS_SQL = """
    SELECT min(first_day) AS first_day, max(last_day) AS last_day FROM (
        SELECT min(settlement_date) AS first_day, max(settlement_date) AS last_day FROM curtailment_records
        UNION ALL SELECT min(settlement_date), max(settlement_date) FROM bitcoin_calculations
        UNION ALL SELECT min(settlement_date), max(settlement_date) FROM curtailment_daily
        UNION ALL SELECT min(settlement_date), max(settlement_date) FROM bitcoin_daily
        UNION ALL SELECT min(settlement_date), max(settlement_date) FROM bitcoin_daily_moments
        UNION ALL SELECT min(settlement_date), max(settlement_date) FROM bm_unit_daily
        UNION ALL SELECT min(settlement_date), max(settlement_date) FROM lead_party_daily
        UNION ALL SELECT min(month), max(month) FROM curtailment_monthly
        UNION ALL SELECT min(month), max(month) FROM bitcoin_monthly
        UNION ALL SELECT make_date(min(year), 1, 1), make_date(max(year), 1, 1) FROM curtailment_yearly
        UNION ALL SELECT make_date(min(year), 1, 1), make_date(max(year), 1, 1) FROM bitcoin_yearly
    ) AS bounds"""


async def data_bounds(connection: asyncpg.Connection) -> tuple[date, date] | None:
    """The first and last date any fact or summary row refers to; None when there are none."""
    row = await connection.fetchrow(_BOUNDS_SQL)
    if row is None or row["first_day"] is None:
        return None
    return row["first_day"], row["last_day"]


def comparison_sql(table: SummaryTable) -> str:
    keys = ", ".join(table.key_columns)
    expected_values = ", ".join(f"expected.{column}" for column in table.value_columns)
    stored_values = ", ".join(f"stored.{column}" for column in table.value_columns)
    pairs = ", ".join(
        f"expected.{column} AS expected_{column}, stored.{column} AS stored_{column}"
        for column in table.value_columns
    )
    return f"""
        SELECT {keys}, expected.present AS in_facts, stored.present AS in_table, {pairs}
        FROM (SELECT facts.*, true AS present FROM ({table.expected_sql}) AS facts) AS expected
        FULL JOIN (SELECT {", ".join(table.columns)}, true AS present FROM {table.name}
                   WHERE {table.stored_in_range_sql}) AS stored USING ({keys})
        WHERE expected.present IS NULL OR stored.present IS NULL
           OR ({expected_values}) IS DISTINCT FROM ({stored_values})
        ORDER BY {keys}"""


def _drift_from_row(table: SummaryTable, row: asyncpg.Record) -> SummaryDrift:
    key = tuple((column, str(row[column])) for column in table.key_columns)
    expected = (
        {column: row[f"expected_{column}"] for column in table.value_columns} if row["in_facts"] else None
    )
    stored = {column: row[f"stored_{column}"] for column in table.value_columns} if row["in_table"] else None
    if expected is None:
        return SummaryDrift(table.name, key, "unexpected", table.value_columns, None, stored)
    if stored is None:
        return SummaryDrift(table.name, key, "missing", table.value_columns, expected, None)
    differing = tuple(column for column in table.value_columns if expected[column] != stored[column])
    return SummaryDrift(table.name, key, "different", differing, expected, stored)


async def check_table(
    connection: asyncpg.Connection, table: SummaryTable, dates: DateRange
) -> list[SummaryDrift]:
    rows = await connection.fetch(comparison_sql(table), dates.start, dates.end)
    return [_drift_from_row(table, row) for row in rows]


async def verify_summaries(
    connection: asyncpg.Connection, first: date | None = None, last: date | None = None
) -> list[SummaryDrift]:
    """Drift in every summary table for the days `first..last` (daily tables) and the months and years that
    overlap them; the whole database when no dates are given."""
    drift: list[SummaryDrift] = []
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        if first is None or last is None:
            bounds = await data_bounds(connection)
            if bounds is None:
                return []
            first, last = first or bounds[0], last or bounds[1]
        for table in ALL_TABLES:
            drift.extend(await check_table(connection, table, aligned_range(table.grain, first, last)))
    return drift


async def verify_settled(
    pool: asyncpg.Pool, first: date | None = None, last: date | None = None, settle_seconds: float = 2.0
) -> list[SummaryDrift]:
    """Like `verify_summaries`, but drift is reported only if it is still there after `settle_seconds`, so a
    period whose event is still on its way to the aggregator is not mistaken for corruption."""
    async with pool.acquire() as connection:
        drift = await verify_summaries(connection, first, last)
        if not drift or settle_seconds <= 0:
            return drift
        await asyncio.sleep(settle_seconds)
        again = await verify_summaries(connection, first, last)
    before = {(item.table, item.key) for item in drift}
    return [item for item in again if (item.table, item.key) in before]
