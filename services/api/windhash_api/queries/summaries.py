"""Curtailment totals for a timeframe, from the summary tables; coverage from the period tables."""

from dataclasses import dataclass
from decimal import Decimal

import asyncpg

from windhash_api.timeframes import Timeframe, TimeframeKind

_COLUMNS = "energy_mwh, cashflow_gbp, record_count, periods_curtailed, bm_units_curtailed"
_BY_KIND = {
    TimeframeKind.daily: f"SELECT {_COLUMNS} FROM curtailment_daily WHERE settlement_date = $1",
    TimeframeKind.monthly: f"SELECT {_COLUMNS} FROM curtailment_monthly WHERE month = $1",
    TimeframeKind.yearly: f"SELECT {_COLUMNS} FROM curtailment_yearly WHERE year = $1",
}
_RANGE = """
SELECT coalesce(sum(energy_mwh), 0) AS energy_mwh, coalesce(sum(cashflow_gbp), 0) AS cashflow_gbp,
       coalesce(sum(record_count), 0)::int AS record_count,
       coalesce(sum(periods_curtailed), 0)::int AS periods_curtailed,
       (SELECT count(DISTINCT bm_unit) FROM bm_unit_daily
         WHERE settlement_date BETWEEN $1 AND $2)::int AS bm_units_curtailed
FROM curtailment_daily WHERE settlement_date BETWEEN $1 AND $2
"""
# A lead party or a BM unit: bm_unit_daily holds both, so one query answers either filter or both.
_FILTERED = """
SELECT coalesce(sum(energy_mwh), 0) AS energy_mwh, coalesce(sum(cashflow_gbp), 0) AS cashflow_gbp,
       coalesce(sum(record_count), 0)::int AS record_count, NULL::int AS periods_curtailed,
       count(DISTINCT bm_unit)::int AS bm_units_curtailed
FROM bm_unit_daily
WHERE settlement_date BETWEEN $1 AND $2
  AND ($3::text IS NULL OR lead_party_name = $3) AND ($4::text IS NULL OR bm_unit = $4)
"""
_COVERAGE = """
SELECT (SELECT count(*) FROM settlement_periods WHERE settlement_date BETWEEN $1 AND $2)::int AS ingested,
       (SELECT count(*) FROM settlement_periods
         WHERE settlement_date BETWEEN $1 AND $2 AND status = 'pending_difficulty')::int AS pending,
       (SELECT count(*) FROM ingestion_progress
         WHERE settlement_date BETWEEN $1 AND $2 AND status = 'failed')::int AS failed
"""


@dataclass(frozen=True)
class CurtailmentTotals:
    energy_mwh: Decimal
    cashflow_gbp: Decimal
    record_count: int
    periods_curtailed: int | None
    bm_units_curtailed: int


NO_CURTAILMENT = CurtailmentTotals(Decimal(0), Decimal(0), 0, 0, 0)


def _key(span: Timeframe) -> object:
    return span.first.year if span.kind is TimeframeKind.yearly else span.first


async def curtailment_totals(
    connection: asyncpg.Connection, span: Timeframe, lead_party: str | None, bm_unit: str | None
) -> CurtailmentTotals:
    if lead_party is not None or bm_unit is not None:
        row = await connection.fetchrow(_FILTERED, span.first, span.last, lead_party, bm_unit)
    elif span.kind is TimeframeKind.range:
        row = await connection.fetchrow(_RANGE, span.first, span.last)
    else:
        row = await connection.fetchrow(_BY_KIND[span.kind], _key(span))
    return CurtailmentTotals(**dict(row)) if row is not None else NO_CURTAILMENT


async def coverage_counts(connection: asyncpg.Connection, span: Timeframe) -> asyncpg.Record:
    row: asyncpg.Record = await connection.fetchrow(_COVERAGE, span.first, span.last)
    return row
