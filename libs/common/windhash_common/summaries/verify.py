"""Checking every summary row against a recompute from the facts, without writing anything.

For each table the query in `summary_tables` is evaluated over the range being checked and full-outer-joined
to the stored rows on the table's key: a key only the facts have is `missing`, a key only the table has is
`unexpected`, and a key whose values differ is `different` (with the columns that differ). All tables are
read in one REPEATABLE READ snapshot. While the services run, a period the calculator has just committed may
not be aggregated yet; `verify_settled` therefore re-checks after a pause and reports only drift that
persisted.

`verify_facts` checks, in the same snapshot, what foreign keys enforced until migration 0600 dropped them from
the write path, plus the calculator's own rule (every record of a calculated period × every active model has
its calculation): per period and model, calculations without their curtailment record, of a model missing
from miner_models, or in a period not calculated (pending difficulty, or no settlement_periods row); records
whose period has no settlement_periods row; missing calculations. `windhash summaries verify` reports both.
"""

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import asyncpg

from windhash_common.summaries.summary_grains import DateRange, aligned_range
from windhash_common.summaries.summary_tables import VERIFIED_TABLES, SummaryTable

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
    detail: str | None = None
    """What is wrong, in words, where the kind alone does not say it (the fact checks)."""

    @property
    def key_text(self) -> str:
        return ", ".join(f"{column}={value}" for column, value in self.key)

    def describe(self) -> str:
        if self.detail is not None:
            return f"{self.table} [{self.key_text}]: {self.detail}"
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
        UNION ALL SELECT min(settlement_date), max(settlement_date) FROM bitcoin_period_totals
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


# Per (period, model): the calculations stored, how many lack their record, and how many records × active
# models a calculated period should have; only the groups with something wrong are returned.
_CALCULATION_FACTS_SQL = """
    WITH calculations AS (
        SELECT b.settlement_date, b.settlement_period, b.miner_model, count(*)::integer AS stored,
               count(*) FILTER (WHERE r.settlement_date IS NULL)::integer AS without_record
        FROM bitcoin_calculations AS b
        LEFT JOIN curtailment_records AS r
          USING (settlement_date, settlement_period, bm_unit, acceptance_id, bid_offer_pair_id)
        WHERE b.settlement_date BETWEEN $1 AND $2
        GROUP BY b.settlement_date, b.settlement_period, b.miner_model
    ), expected AS (
        SELECT r.settlement_date, r.settlement_period, m.name AS miner_model, count(*)::integer AS records
        FROM curtailment_records AS r
        JOIN settlement_periods AS s USING (settlement_date, settlement_period)
        CROSS JOIN miner_models AS m
        WHERE r.settlement_date BETWEEN $1 AND $2 AND s.status = 'calculated' AND m.active
        GROUP BY r.settlement_date, r.settlement_period, m.name
    )
    SELECT settlement_date, settlement_period, miner_model, e.records AS expected,
           coalesce(c.stored, 0) AS stored, coalesce(c.without_record, 0) AS without_record,
           c.stored IS NOT NULL AND m.name IS NULL AS unknown_model,
           CASE WHEN c.stored IS NULL OR s.status = 'calculated' THEN NULL
                ELSE coalesce(s.status, 'not in settlement_periods') END AS period_not_calculated
    FROM expected AS e
    FULL JOIN calculations AS c USING (settlement_date, settlement_period, miner_model)
    LEFT JOIN miner_models AS m ON m.name = miner_model
    LEFT JOIN settlement_periods AS s USING (settlement_date, settlement_period)
    WHERE c.without_record > 0
       OR (c.stored IS NOT NULL AND (m.name IS NULL OR s.status IS DISTINCT FROM 'calculated'))
       OR e.records > coalesce(c.stored - c.without_record, 0)
    ORDER BY settlement_date, settlement_period, miner_model"""

_RECORD_FACTS_SQL = """
    SELECT r.settlement_date, r.settlement_period, count(*)::integer AS records
    FROM curtailment_records AS r
    LEFT JOIN settlement_periods AS s USING (settlement_date, settlement_period)
    WHERE r.settlement_date BETWEEN $1 AND $2 AND s.settlement_date IS NULL
    GROUP BY r.settlement_date, r.settlement_period
    ORDER BY r.settlement_date, r.settlement_period"""


def _calculation_drift(row: asyncpg.Record) -> list[SummaryDrift]:
    key = tuple(
        (column, str(row[column])) for column in ("settlement_date", "settlement_period", "miner_model")
    )
    expected, stored = row["expected"], row["stored"]

    def drift(kind: DriftKind, detail: str) -> SummaryDrift:
        counts = ({"calculations": expected or 0}, {"calculations": stored})
        return SummaryDrift("bitcoin_calculations", key, kind, ("calculations",), *counts, detail=detail)

    found = []
    if row["without_record"]:
        found.append(
            drift("unexpected", f"{row['without_record']} calculations without their curtailment record")
        )
    if row["unknown_model"]:
        found.append(drift("unexpected", f"{stored} calculations of a model missing from miner_models"))
    if row["period_not_calculated"] is not None:
        found.append(drift("unexpected", f"{stored} calculations in a period {row['period_not_calculated']}"))
    with_record = stored - row["without_record"]
    if expected is not None and expected > with_record:
        found.append(drift("missing", f"{expected - with_record} of {expected} records have no calculation"))
    return found


async def verify_facts(connection: asyncpg.Connection, first: date, last: date) -> list[SummaryDrift]:
    """What the fact tables' dropped foreign keys (and the records × active models rule) would have kept out,
    for the settlement dates `first..last`, as drift of `bitcoin_calculations` (key: period and model) and of
    `curtailment_records` (key: period). Call it inside a transaction to see one snapshot."""
    drift: list[SummaryDrift] = []
    for row in await connection.fetch(_CALCULATION_FACTS_SQL, first, last):
        drift.extend(_calculation_drift(row))
    for row in await connection.fetch(_RECORD_FACTS_SQL, first, last):
        key = (("settlement_date", str(row[0])), ("settlement_period", str(row[1])))
        detail = f"{row['records']} records of a period not in settlement_periods"
        counts = ({"records": 0}, {"records": row["records"]})
        drift.append(
            SummaryDrift("curtailment_records", key, "unexpected", ("records",), *counts, detail=detail)
        )
    return drift


async def verify_summaries(
    connection: asyncpg.Connection,
    first: date | None = None,
    last: date | None = None,
    facts: bool = False,
) -> list[SummaryDrift]:
    """Drift in every summary table for the days `first..last` (daily tables) and the months and years that
    overlap them (the whole database when no dates are given); with `facts`, `verify_facts` of the days."""
    drift: list[SummaryDrift] = []
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        if first is None or last is None:
            bounds = await data_bounds(connection)
            if bounds is None:
                return []
            first, last = first or bounds[0], last or bounds[1]
        for table in VERIFIED_TABLES:
            drift.extend(await check_table(connection, table, aligned_range(table.grain, first, last)))
        if facts:
            drift.extend(await verify_facts(connection, first, last))
    return drift


async def verify_settled(
    pool: asyncpg.Pool,
    first: date | None = None,
    last: date | None = None,
    settle_seconds: float = 2.0,
    facts: bool = True,
) -> list[SummaryDrift]:
    """Like `verify_summaries` (with the fact checks unless `facts` is false), but drift is reported only if
    it is still there after `settle_seconds`, so a period whose event is still on its way to the aggregator is
    not mistaken for corruption."""
    async with pool.acquire() as connection:
        drift = await verify_summaries(connection, first, last, facts)
        if not drift or settle_seconds <= 0:
            return drift
        await asyncio.sleep(settle_seconds)
        again = await verify_summaries(connection, first, last, facts)
    before = {(item.table, item.key) for item in drift}
    return [item for item in again if (item.table, item.key) in before]
