"""Where one BM unit or one lead party stands in a span: its rank among all, from the daily summaries.

The order is the rankings' own (queries.rankings: the column, largest first, ties by name), so a unit's rank
here is its row number in /top/bm-units for the same span and column.
"""

from datetime import date

import asyncpg

from windhash_api.queries.rankings import ORDER_COLUMNS

# A unit with no curtailment in the span still answers (rank NULL), with how many units were ranked.
_BM_UNIT = """
WITH totals AS (
    SELECT bm_unit, max(lead_party_name) AS lead_party_name, sum(energy_mwh) AS energy_mwh,
           sum(cashflow_gbp) AS cashflow_gbp, sum(record_count)::int AS record_count,
           count(*)::int AS days_curtailed
    FROM bm_unit_daily WHERE settlement_date BETWEEN $1 AND $2
    GROUP BY bm_unit
), ranked AS (
    SELECT t.*, row_number() OVER (ORDER BY t.{order} DESC, t.bm_unit)::int AS rank,
           row_number() OVER (PARTITION BY t.lead_party_name ORDER BY t.{order} DESC, t.bm_unit)::int
               AS rank_in_lead_party,
           count(*) OVER (PARTITION BY t.lead_party_name)::int AS units_in_lead_party
    FROM totals AS t
)
SELECT asked.bm_unit, r.rank, (SELECT count(*) FROM totals)::int AS units_ranked,
       coalesce(r.lead_party_name, u.lead_party_name) AS lead_party_name, r.rank_in_lead_party,
       r.units_in_lead_party, coalesce(r.energy_mwh, 0) AS energy_mwh,
       coalesce(r.cashflow_gbp, 0) AS cashflow_gbp, coalesce(r.record_count, 0) AS record_count,
       coalesce(r.days_curtailed, 0) AS days_curtailed
FROM (SELECT $3::text AS bm_unit) AS asked
LEFT JOIN ranked AS r USING (bm_unit)
LEFT JOIN wind_bm_units AS u ON u.elexon_bm_unit = asked.bm_unit
"""
_LEAD_PARTY = """
WITH totals AS (
    SELECT lead_party_name, sum(energy_mwh) AS energy_mwh, sum(cashflow_gbp) AS cashflow_gbp,
           sum(record_count)::int AS record_count, count(*)::int AS days_curtailed
    FROM lead_party_daily WHERE settlement_date BETWEEN $1 AND $2
    GROUP BY lead_party_name
), ranked AS (
    SELECT t.*, row_number() OVER (ORDER BY t.{order} DESC, t.lead_party_name)::int AS rank FROM totals AS t
)
SELECT asked.lead_party_name, r.rank, (SELECT count(*) FROM totals)::int AS parties_ranked,
       coalesce(r.energy_mwh, 0) AS energy_mwh, coalesce(r.cashflow_gbp, 0) AS cashflow_gbp,
       coalesce(r.record_count, 0) AS record_count, coalesce(r.days_curtailed, 0) AS days_curtailed,
       (SELECT count(DISTINCT bm_unit) FROM bm_unit_daily
        WHERE settlement_date BETWEEN $1 AND $2 AND lead_party_name = $3)::int AS bm_units_curtailed
FROM (SELECT $3::text AS lead_party_name) AS asked
LEFT JOIN ranked AS r USING (lead_party_name)
"""


async def bm_unit_standing(
    connection: asyncpg.Connection, first: date, last: date, bm_unit: str, order_by: str
) -> asyncpg.Record:
    row: asyncpg.Record = await connection.fetchrow(
        _BM_UNIT.format(order=ORDER_COLUMNS[order_by]), first, last, bm_unit
    )
    return row


async def lead_party_standing(
    connection: asyncpg.Connection, first: date, last: date, lead_party: str, order_by: str
) -> asyncpg.Record:
    row: asyncpg.Record = await connection.fetchrow(
        _LEAD_PARTY.format(order=ORDER_COLUMNS[order_by]), first, last, lead_party
    )
    return row
