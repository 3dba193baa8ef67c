"""Chart series: per settlement period of a day, or per day of a span (months are summed from days)."""

from datetime import date

import asyncpg
from windhash_common.money import penny_half_even_sql

# btc is NULL without a model, 0 where nothing was curtailed, NULL where curtailment awaits its difficulty.
_BY_PERIOD = f"""
WITH price AS (SELECT gbp FROM btc_prices WHERE price_date = $1), c AS (
    SELECT settlement_period, sum(-volume_mwh) AS energy_mwh, sum(cashflow_gbp) AS cashflow_gbp
    FROM curtailment_records
    WHERE settlement_date = $1
      AND ($3::text IS NULL OR lead_party_name = $3) AND ($4::text IS NULL OR bm_unit = $4)
    GROUP BY settlement_period
), b AS (
    SELECT bc.settlement_period, sum(bc.btc) AS btc
    FROM bitcoin_calculations AS bc
    JOIN curtailment_records AS cr
      USING (settlement_date, settlement_period, bm_unit, acceptance_id, bid_offer_pair_id)
    WHERE bc.settlement_date = $1 AND bc.miner_model = $5
      AND ($3::text IS NULL OR cr.lead_party_name = $3) AND ($4::text IS NULL OR bc.bm_unit = $4)
    GROUP BY bc.settlement_period
)
SELECT p.period::text AS key, coalesce(c.energy_mwh, 0) AS energy_mwh,
       coalesce(c.cashflow_gbp, 0) AS cashflow_gbp,
       CASE WHEN $5::text IS NULL THEN NULL
            ELSE coalesce(b.btc, CASE WHEN c.energy_mwh IS NULL THEN 0 END) END AS btc,
       {penny_half_even_sql("b.btc * price.gbp")} AS value_gbp,
       (price.gbp IS NULL AND b.btc IS NOT NULL)::int AS days_without_price
FROM generate_series(1, $2::int) AS p(period)
LEFT JOIN c ON c.settlement_period = p.period
LEFT JOIN b ON b.settlement_period = p.period
LEFT JOIN price ON true
ORDER BY p.period
"""
_BY_DAY = """
SELECT d.day::date AS day, coalesce(c.energy_mwh, 0) AS energy_mwh,
       coalesce(c.cashflow_gbp, 0) AS cashflow_gbp,
       CASE WHEN $3::text IS NULL THEN NULL
            ELSE coalesce(b.btc, CASE WHEN c.settlement_date IS NULL THEN 0 END) END AS btc,
       b.value_gbp, (b.btc IS NOT NULL AND b.value_gbp IS NULL)::int AS days_without_price
FROM generate_series($1::date, $2::date, interval '1 day') AS d(day)
LEFT JOIN curtailment_daily AS c ON c.settlement_date = d.day
LEFT JOIN bitcoin_daily AS b ON b.settlement_date = d.day AND b.miner_model = $3
ORDER BY d.day
"""
_BY_DAY_FILTERED = f"""
WITH c AS (
    SELECT settlement_date, sum(energy_mwh) AS energy_mwh, sum(cashflow_gbp) AS cashflow_gbp
    FROM bm_unit_daily
    WHERE settlement_date BETWEEN $1 AND $2
      AND ($4::text IS NULL OR lead_party_name = $4) AND ($5::text IS NULL OR bm_unit = $5)
    GROUP BY settlement_date
), b AS (
    SELECT bc.settlement_date, sum(bc.btc) AS btc
    FROM bitcoin_calculations AS bc
    JOIN curtailment_records AS cr
      USING (settlement_date, settlement_period, bm_unit, acceptance_id, bid_offer_pair_id)
    WHERE bc.settlement_date BETWEEN $1 AND $2 AND bc.miner_model = $3
      AND ($4::text IS NULL OR cr.lead_party_name = $4) AND ($5::text IS NULL OR bc.bm_unit = $5)
    GROUP BY bc.settlement_date
)
SELECT d.day::date AS day, coalesce(c.energy_mwh, 0) AS energy_mwh,
       coalesce(c.cashflow_gbp, 0) AS cashflow_gbp,
       CASE WHEN $3::text IS NULL THEN NULL
            ELSE coalesce(b.btc, CASE WHEN c.settlement_date IS NULL THEN 0 END) END AS btc,
       {penny_half_even_sql("b.btc * p.gbp")} AS value_gbp,
       (b.btc IS NOT NULL AND p.gbp IS NULL)::int AS days_without_price
FROM generate_series($1::date, $2::date, interval '1 day') AS d(day)
LEFT JOIN c ON c.settlement_date = d.day
LEFT JOIN b ON b.settlement_date = d.day
LEFT JOIN btc_prices AS p ON p.price_date = d.day
ORDER BY d.day
"""


async def series_by_period(
    connection: asyncpg.Connection,
    settlement_date: date,
    periods_in_day: int,
    miner_model: str | None,
    lead_party: str | None,
    bm_unit: str | None,
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await connection.fetch(
        _BY_PERIOD, settlement_date, periods_in_day, lead_party, bm_unit, miner_model
    )
    return rows


async def series_by_day(
    connection: asyncpg.Connection,
    first: date,
    last: date,
    miner_model: str | None,
    lead_party: str | None,
    bm_unit: str | None,
) -> list[asyncpg.Record]:
    if lead_party is None and bm_unit is None:
        rows: list[asyncpg.Record] = await connection.fetch(_BY_DAY, first, last, miner_model)
    else:
        rows = await connection.fetch(_BY_DAY_FILTERED, first, last, miner_model, lead_party, bm_unit)
    return rows
