"""BTC per miner model for a timeframe: from the bitcoin summaries, or from the facts when filtered."""

import asyncpg
from windhash_common.money import penny_half_even_sql

from windhash_api.timeframes import Timeframe, TimeframeKind

_SUMMARY_COLUMNS = (
    "miner_model, energy_mwh, btc, value_gbp, value_usd, difficulty_min, difficulty_max, difficulty_weighted"
)
_DAILY = f"""
SELECT {_SUMMARY_COLUMNS}, (value_gbp IS NULL)::int AS days_without_price
FROM bitcoin_daily WHERE settlement_date = $1
"""
_MONTHLY = f"SELECT {_SUMMARY_COLUMNS}, days_without_price FROM bitcoin_monthly WHERE month = $1"
_YEARLY = f"SELECT {_SUMMARY_COLUMNS}, days_without_price FROM bitcoin_yearly WHERE year = $1"
_RANGE = """
SELECT miner_model, sum(energy_mwh) AS energy_mwh, sum(btc) AS btc,
       sum(value_gbp) AS value_gbp, sum(value_usd) AS value_usd,
       min(difficulty_min) AS difficulty_min, max(difficulty_max) AS difficulty_max,
       round(sum(difficulty_weighted * energy_mwh) / nullif(sum(energy_mwh), 0), 2) AS difficulty_weighted,
       count(*) FILTER (WHERE value_gbp IS NULL)::int AS days_without_price
FROM bitcoin_daily WHERE settlement_date BETWEEN $1 AND $2
GROUP BY miner_model
"""
# Per day first, because each day's BTC takes that day's price (rounded to the penny, as bitcoin_daily is).
_FILTERED = f"""
WITH per_day AS (
    SELECT bc.miner_model, bc.settlement_date, sum(bc.btc) AS btc, sum(bc.energy_mwh) AS energy_mwh,
           min(bc.difficulty) AS difficulty_min, max(bc.difficulty) AS difficulty_max,
           sum(bc.difficulty * bc.energy_mwh) AS difficulty_energy
    FROM bitcoin_calculations AS bc
    JOIN curtailment_records AS cr
      USING (settlement_date, settlement_period, bm_unit, acceptance_id, bid_offer_pair_id)
    WHERE bc.settlement_date BETWEEN $1 AND $2
      AND ($3::text IS NULL OR cr.lead_party_name = $3) AND ($4::text IS NULL OR bc.bm_unit = $4)
      AND ($5::text IS NULL OR bc.miner_model = $5)
    GROUP BY bc.miner_model, bc.settlement_date
)
SELECT d.miner_model, sum(d.energy_mwh) AS energy_mwh, sum(d.btc) AS btc,
       sum({penny_half_even_sql("d.btc * p.gbp")}) AS value_gbp,
       sum({penny_half_even_sql("d.btc * p.usd")}) AS value_usd,
       min(d.difficulty_min) AS difficulty_min, max(d.difficulty_max) AS difficulty_max,
       round(sum(d.difficulty_energy) / nullif(sum(d.energy_mwh), 0), 2) AS difficulty_weighted,
       count(*) FILTER (WHERE p.gbp IS NULL)::int AS days_without_price
FROM per_day AS d LEFT JOIN btc_prices AS p ON p.price_date = d.settlement_date
GROUP BY d.miner_model
"""
# Every active model appears (with zero BTC when it has no rows), and any model that has rows.
_WITH_ALL_MODELS = """
SELECT m.name AS miner_model, coalesce(d.energy_mwh, 0) AS energy_mwh, coalesce(d.btc, 0) AS btc,
       d.value_gbp, d.value_usd, d.difficulty_min, d.difficulty_max, d.difficulty_weighted,
       coalesce(d.days_without_price, 0)::int AS days_without_price
FROM miner_models AS m LEFT JOIN ({inner}) AS d ON d.miner_model = m.name
WHERE (m.active OR d.miner_model IS NOT NULL) AND (${model}::text IS NULL OR m.name = ${model})
ORDER BY m.name
"""


async def mining_potential(
    connection: asyncpg.Connection,
    span: Timeframe,
    miner_model: str | None,
    lead_party: str | None,
    bm_unit: str | None,
) -> list[asyncpg.Record]:
    inner: str
    args: list[object]
    if lead_party is not None or bm_unit is not None:
        inner, args = _FILTERED, [span.first, span.last, lead_party, bm_unit, miner_model]
        sql = _WITH_ALL_MODELS.format(inner=inner, model=5)
    else:
        if span.kind is TimeframeKind.daily:
            inner, args = _DAILY, [span.first]
        elif span.kind is TimeframeKind.monthly:
            inner, args = _MONTHLY, [span.first]
        elif span.kind is TimeframeKind.yearly:
            inner, args = _YEARLY, [span.first.year]
        else:
            inner, args = _RANGE, [span.first, span.last]
        sql = _WITH_ALL_MODELS.format(inner=inner, model=len(args) + 1)
        args.append(miner_model)
    rows: list[asyncpg.Record] = await connection.fetch(sql, *args)
    return rows
