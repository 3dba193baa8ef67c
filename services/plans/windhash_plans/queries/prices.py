"""SQL of the half-hourly power prices (`power_prices`, migration 1300)."""

# Replace-by-key: a period read again with a revised price takes it; an unchanged one is left alone.
UPSERT_PRICES = """
WITH written AS (
    INSERT INTO power_prices (settlement_date, settlement_period, start_time, price_gbp_per_mwh, volume_mwh,
                              source, synthetic)
    SELECT * FROM unnest($1::date[], $2::smallint[], $3::timestamptz[], $4::numeric[], $5::numeric[],
                         $6::text[], $7::boolean[])
    ON CONFLICT (settlement_date, settlement_period) DO UPDATE
       SET start_time = excluded.start_time, price_gbp_per_mwh = excluded.price_gbp_per_mwh,
           volume_mwh = excluded.volume_mwh, source = excluded.source, synthetic = excluded.synthetic,
           fetched_at = now()
     WHERE (power_prices.price_gbp_per_mwh, power_prices.volume_mwh)
           IS DISTINCT FROM (excluded.price_gbp_per_mwh, excluded.volume_mwh)
    RETURNING 1
)
SELECT count(*) FROM written
"""

# The price of the settlement period running at $1.
PRICE_AT = """
SELECT price_gbp_per_mwh, start_time, synthetic FROM power_prices
 WHERE start_time <= $1 AND start_time > $1 - interval '30 minutes'
"""

PRICES_BETWEEN = """
SELECT start_time, price_gbp_per_mwh, synthetic FROM power_prices
 WHERE start_time >= $1 AND start_time < $2
 ORDER BY start_time
"""

NEWEST_PRICE = "SELECT max(start_time) FROM power_prices"
