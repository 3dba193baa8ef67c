"""BTC per miner model bucket by bucket (day or month), and the difficulty and BTC price of each day.

Each day's BTC is valued at that day's price and rounded to the penny (as bitcoin_daily is) before a month
sums them. A bucket where a model has no calculation has no row: nothing was curtailed, or it awaits its
difficulty (the series route says which).
"""

from datetime import date

import asyncpg
from windhash_common.money import penny_half_even_sql

BUCKET_FORMATS = {"day": "YYYY-MM-DD", "month": "YYYY-MM"}

_FROM_SUMMARIES = """
SELECT to_char(settlement_date, $3) AS key, miner_model, sum(btc) AS btc, sum(value_gbp) AS value_gbp,
       count(*) FILTER (WHERE value_gbp IS NULL)::int AS days_without_price
FROM bitcoin_daily
WHERE settlement_date BETWEEN $1 AND $2 AND ($4::text IS NULL OR miner_model = $4)
GROUP BY 1, 2
ORDER BY 1, 2
"""
_FROM_FACTS = f"""
WITH per_day AS (
    SELECT bc.miner_model, bc.settlement_date, sum(bc.btc) AS btc
    FROM bitcoin_calculations AS bc
    JOIN curtailment_records AS cr
      USING (settlement_date, settlement_period, bm_unit, acceptance_id, bid_offer_pair_id)
    WHERE bc.settlement_date BETWEEN $1 AND $2 AND ($4::text IS NULL OR bc.miner_model = $4)
      AND ($5::text IS NULL OR cr.lead_party_name = $5) AND ($6::text IS NULL OR bc.bm_unit = $6)
    GROUP BY bc.miner_model, bc.settlement_date
)
SELECT to_char(d.settlement_date, $3) AS key, d.miner_model, sum(d.btc) AS btc,
       sum({penny_half_even_sql("d.btc * p.gbp")}) AS value_gbp,
       count(*) FILTER (WHERE p.gbp IS NULL)::int AS days_without_price
FROM per_day AS d LEFT JOIN btc_prices AS p ON p.price_date = d.settlement_date
GROUP BY 1, 2
ORDER BY 1, 2
"""
_DIFFICULTY_AND_PRICE = """
SELECT d.day::date AS day, s.difficulty_min, s.difficulty_max, s.periods_held,
       p.gbp AS price_gbp, p.usd AS price_usd
FROM generate_series($1::date, $2::date, interval '1 day') AS d(day)
LEFT JOIN (
    SELECT settlement_date, min(difficulty) AS difficulty_min, max(difficulty) AS difficulty_max,
           count(*)::int AS periods_held
    FROM settlement_periods WHERE settlement_date BETWEEN $1 AND $2
    GROUP BY settlement_date
) AS s ON s.settlement_date = d.day
LEFT JOIN btc_prices AS p ON p.price_date = d.day
ORDER BY d.day
"""


async def btc_by_model(
    connection: asyncpg.Connection,
    first: date,
    last: date,
    bucket: str,
    miner_model: str | None,
    lead_party: str | None,
    bm_unit: str | None,
) -> list[asyncpg.Record]:
    key_format = BUCKET_FORMATS[bucket]
    rows: list[asyncpg.Record]
    if lead_party is None and bm_unit is None:
        rows = await connection.fetch(_FROM_SUMMARIES, first, last, key_format, miner_model)
    else:
        rows = await connection.fetch(_FROM_FACTS, first, last, key_format, miner_model, lead_party, bm_unit)
    return rows


async def difficulty_and_price(
    connection: asyncpg.Connection, first: date, last: date
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await connection.fetch(_DIFFICULTY_AND_PRICE, first, last)
    return rows
