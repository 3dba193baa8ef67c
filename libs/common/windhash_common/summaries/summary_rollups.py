"""Month and year rows rolled up from the daily rows, for the consumer's incremental recompute.

Rescanning a year of facts on every batch would cost seconds per batch once a year of data exists, so the
consumer recomputes a month or year from its daily rows instead: sums of sums, min of mins, the
energy-weighted difficulty from the exact daily moments (`bitcoin_daily_moments`), distinct BM units from
`bm_unit_daily`. This equals the from-facts query in `summary_tables` whenever the daily rows are current,
which the consumer guarantees: every change to a day's facts is followed by an event whose transaction
replaces that day's rows and then, under the month's and year's advisory locks, the month and the year
(READ COMMITTED: the rollup sees every daily row committed before it). `summaries verify` still compares
months and years with the facts directly, and `summaries rebuild` recomputes them from the facts, so a bad
daily row cannot hide in a month. Both queries read the daily rows of `[$1, $2)`, whole months or years.
"""

from windhash_common.summaries.summary_grains import GRAIN_KEY_COLUMN, GRAIN_KEY_SQL, Grain

_DAYS_IN_RANGE = "settlement_date >= $1::date AND settlement_date < $2::date"


def curtailment_rollup_sql(grain: Grain) -> str:
    key = GRAIN_KEY_SQL[grain]
    return f"""
        WITH units AS (
            -- DISTINCT then count, not count(DISTINCT): PostgreSQL hashes the first and sorts a year of daily
            -- rows (~50,000) for the second, on every batch.
            SELECT grain_key, count(*)::integer AS bm_units
            FROM (SELECT DISTINCT {key} AS grain_key, bm_unit FROM bm_unit_daily WHERE {_DAYS_IN_RANGE})
                AS unit_grains
            GROUP BY grain_key
        )
        SELECT {key} AS {GRAIN_KEY_COLUMN[grain]},
               sum(energy_mwh) AS energy_mwh,
               sum(cashflow_gbp) AS cashflow_gbp,
               sum(record_count)::integer AS record_count,
               sum(periods_curtailed)::integer AS periods_curtailed,
               min(units.bm_units) AS bm_units_curtailed
        FROM curtailment_daily JOIN units ON units.grain_key = {key}
        WHERE {_DAYS_IN_RANGE}
        GROUP BY 1"""


def bitcoin_rollup_sql(grain: Grain) -> str:
    # A daily row has no GBP value exactly when its day has no GBP price (its BTC is never NULL).
    return f"""
        SELECT {GRAIN_KEY_SQL[grain]} AS {GRAIN_KEY_COLUMN[grain]}, miner_model,
               sum(daily.btc) AS btc,
               sum(daily.energy_mwh) AS energy_mwh,
               min(daily.difficulty_min) AS difficulty_min,
               max(daily.difficulty_max) AS difficulty_max,
               CASE WHEN sum(daily.energy_mwh) > 0
                    THEN round(sum(moments.energy_x_difficulty)::numeric(80, 20) / sum(daily.energy_mwh), 2)
                    ELSE round(sum(moments.difficulty_sum)::numeric(80, 20) / sum(moments.calculations), 2)
               END AS difficulty_weighted,
               sum(daily.value_gbp) AS value_gbp,
               sum(daily.value_usd) AS value_usd,
               (count(*) FILTER (WHERE daily.value_gbp IS NULL))::integer AS days_without_price
        FROM bitcoin_daily AS daily
        JOIN bitcoin_daily_moments AS moments USING (settlement_date, miner_model)
        WHERE {_DAYS_IN_RANGE}
        GROUP BY 1, 2"""
