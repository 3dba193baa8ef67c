"""Top BM units and lead parties over a span of dates, from the per-unit and per-party daily summaries."""

from datetime import date

import asyncpg

# Sort columns come from a closed set (validated by the route), so formatting them into SQL is safe.
ORDER_COLUMNS = {"energy_mwh": "energy_mwh", "cashflow_gbp": "cashflow_gbp", "record_count": "record_count"}

_BM_UNITS = """
WITH ranked AS (
    SELECT d.bm_unit, sum(d.energy_mwh) AS energy_mwh, sum(d.cashflow_gbp) AS cashflow_gbp,
           sum(d.record_count)::int AS record_count, count(*)::int AS days_curtailed,
           max(d.lead_party_name) AS record_lead_party
    FROM bm_unit_daily AS d
    WHERE d.settlement_date BETWEEN $1 AND $2 AND ($3::text IS NULL OR d.lead_party_name = $3)
    GROUP BY d.bm_unit
)
SELECT row_number() OVER (ORDER BY r.{order} DESC, r.bm_unit)::int AS rank, r.bm_unit,
       u.bm_unit_name, coalesce(u.lead_party_name, r.record_lead_party) AS lead_party_name,
       u.generation_capacity_mw, r.energy_mwh, r.cashflow_gbp, r.record_count, r.days_curtailed,
       count(*) OVER ()::int AS total
FROM ranked AS r LEFT JOIN wind_bm_units AS u ON u.elexon_bm_unit = r.bm_unit
ORDER BY r.{order} DESC, r.bm_unit
LIMIT $4 OFFSET $5
"""
_LEAD_PARTIES = """
WITH ranked AS (
    SELECT lead_party_name, sum(energy_mwh) AS energy_mwh, sum(cashflow_gbp) AS cashflow_gbp,
           sum(record_count)::int AS record_count, count(*)::int AS days_curtailed
    FROM lead_party_daily WHERE settlement_date BETWEEN $1 AND $2
    GROUP BY lead_party_name
), units AS (
    SELECT lead_party_name, count(DISTINCT bm_unit)::int AS bm_units_curtailed
    FROM bm_unit_daily WHERE settlement_date BETWEEN $1 AND $2
    GROUP BY lead_party_name
)
SELECT row_number() OVER (ORDER BY r.{order} DESC, r.lead_party_name)::int AS rank, r.lead_party_name,
       r.energy_mwh, r.cashflow_gbp, r.record_count, r.days_curtailed,
       coalesce(u.bm_units_curtailed, 0) AS bm_units_curtailed, count(*) OVER ()::int AS total
FROM ranked AS r LEFT JOIN units AS u USING (lead_party_name)
ORDER BY r.{order} DESC, r.lead_party_name
LIMIT $3 OFFSET $4
"""


async def top_bm_units(
    connection: asyncpg.Connection,
    first: date,
    last: date,
    lead_party: str | None,
    order_by: str,
    limit: int,
    offset: int,
) -> list[asyncpg.Record]:
    sql = _BM_UNITS.format(order=ORDER_COLUMNS[order_by])
    rows: list[asyncpg.Record] = await connection.fetch(sql, first, last, lead_party, limit, offset)
    return rows


async def top_lead_parties(
    connection: asyncpg.Connection, first: date, last: date, order_by: str, limit: int, offset: int
) -> list[asyncpg.Record]:
    sql = _LEAD_PARTIES.format(order=ORDER_COLUMNS[order_by])
    rows: list[asyncpg.Record] = await connection.fetch(sql, first, last, limit, offset)
    return rows


_BM_UNIT_COUNT = """
SELECT count(DISTINCT bm_unit)::int FROM bm_unit_daily
WHERE settlement_date BETWEEN $1 AND $2 AND ($3::text IS NULL OR lead_party_name = $3)
"""
_LEAD_PARTY_COUNT = """
SELECT count(DISTINCT lead_party_name)::int FROM lead_party_daily WHERE settlement_date BETWEEN $1 AND $2
"""


async def count_bm_units(
    connection: asyncpg.Connection, first: date, last: date, lead_party: str | None
) -> int:
    total: int = await connection.fetchval(_BM_UNIT_COUNT, first, last, lead_party)
    return total


async def count_lead_parties(connection: asyncpg.Connection, first: date, last: date) -> int:
    total: int = await connection.fetchval(_LEAD_PARTY_COUNT, first, last)
    return total
