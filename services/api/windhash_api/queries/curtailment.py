"""Curtailment of one settlement date per settlement period, from the fact table."""

from datetime import date

import asyncpg

_BY_PERIOD = """
SELECT p.period AS settlement_period,
       coalesce(c.energy_mwh, 0) AS energy_mwh, coalesce(c.cashflow_gbp, 0) AS cashflow_gbp,
       coalesce(c.record_count, 0)::int AS record_count, coalesce(c.bm_units, 0)::int AS bm_units_curtailed,
       s.status
FROM generate_series(1, $2::int) AS p(period)
LEFT JOIN (
    SELECT settlement_period, sum(-volume_mwh) AS energy_mwh, sum(cashflow_gbp) AS cashflow_gbp,
           count(*) AS record_count, count(DISTINCT bm_unit) AS bm_units
    FROM curtailment_records
    WHERE settlement_date = $1
      AND ($3::text IS NULL OR lead_party_name = $3) AND ($4::text IS NULL OR bm_unit = $4)
    GROUP BY settlement_period
) AS c ON c.settlement_period = p.period
LEFT JOIN settlement_periods AS s ON s.settlement_date = $1 AND s.settlement_period = p.period
ORDER BY p.period
"""


async def curtailment_by_period(
    connection: asyncpg.Connection,
    settlement_date: date,
    periods_in_day: int,
    lead_party: str | None,
    bm_unit: str | None,
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await connection.fetch(
        _BY_PERIOD, settlement_date, periods_in_day, lead_party, bm_unit
    )
    return rows
