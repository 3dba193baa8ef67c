"""SQL of the market's HTTP routes: the snapshot series downsampled in PostgreSQL, the sums hashprice over
time needs, the indicators of a range and the newest snapshot.

Buckets are `date_bin(bucket, slot_at, 2000-01-01 UTC)`: whole UTC quarter-hours, hours or days. A bucket with
no snapshot has no row (a gap stays a gap); `snapshots` says how many slots each bucket holds. Per bucket:
the USD and GBP prices' open, high, low and close (first, highest, lowest and last snapshot's), the mean
hashrate, and the last snapshot's 24 h volume, difficulty, block height and block reward.
"""

from datetime import datetime
from typing import Any

import asyncpg

from windhash_market.hashprice_series import PriceSums
from windhash_market.series_range import BUCKET_ORIGIN, SeriesRange

SNAPSHOT_COLUMNS = """slot_at, price_usd, price_gbp, volume_24h_usd, hashrate_ehs, difficulty, block_height,
       block_reward_btc, price_quoted_at, block_mined_at, collected_at, backfilled, synthetic"""

LATEST_SNAPSHOT = f"SELECT {SNAPSHOT_COLUMNS} FROM market_analytics ORDER BY slot_at DESC LIMIT 1"

SNAPSHOT_BUCKETS = """
SELECT date_bin($3::interval, slot_at, $4::timestamptz) AS bucket_at,
       count(*)::int AS snapshots,
       (count(*) FILTER (WHERE backfilled))::int AS backfilled,
       bool_or(synthetic) AS synthetic,
       (array_agg(price_usd ORDER BY slot_at))[1] AS price_usd_open,
       max(price_usd) AS price_usd_high,
       min(price_usd) AS price_usd_low,
       (array_agg(price_usd ORDER BY slot_at DESC))[1] AS price_usd_close,
       (array_agg(price_gbp ORDER BY slot_at))[1] AS price_gbp_open,
       max(price_gbp) AS price_gbp_high,
       min(price_gbp) AS price_gbp_low,
       (array_agg(price_gbp ORDER BY slot_at DESC))[1] AS price_gbp_close,
       (array_agg(volume_24h_usd ORDER BY slot_at DESC))[1] AS volume_24h_usd,
       round(avg(hashrate_ehs), 3) AS hashrate_ehs,
       (array_agg(difficulty ORDER BY slot_at DESC))[1] AS difficulty,
       (array_agg(block_height ORDER BY slot_at DESC))[1] AS block_height,
       (array_agg(block_reward_btc ORDER BY slot_at DESC))[1] AS block_reward_btc
  FROM market_analytics
 WHERE slot_at >= $1 AND slot_at < $2
 GROUP BY 1 ORDER BY 1
"""

PRICE_SUMS = """
SELECT date_bin($3::interval, slot_at, $4::timestamptz) AS bucket_at, difficulty, block_reward_btc,
       count(*)::int AS snapshots, sum(price_usd) AS usd_sum, sum(price_gbp) AS gbp_sum,
       bool_or(synthetic) AS synthetic
  FROM market_analytics
 WHERE slot_at >= $1 AND slot_at < $2
 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
"""

INDICATORS = """
SELECT i.slot_at, m.price_usd, i.rsi_14, i.macd, i.macd_signal, i.macd_histogram, i.bb_upper, i.bb_middle,
       i.bb_lower, i.ema_12, i.ema_26, i.signal, m.synthetic
  FROM technical_indicators AS i JOIN market_analytics AS m USING (slot_at)
 WHERE i.slot_at >= $1 AND i.slot_at < $2
 ORDER BY i.slot_at
"""


async def latest_snapshot(connection: asyncpg.Connection) -> dict[str, Any] | None:
    row = await connection.fetchrow(LATEST_SNAPSHOT)
    return None if row is None else dict(row)


async def snapshot_buckets(connection: asyncpg.Connection, span: SeriesRange) -> list[dict[str, Any]]:
    rows = await connection.fetch(SNAPSHOT_BUCKETS, span.start, span.end, span.bucket, BUCKET_ORIGIN)
    return [dict(row) for row in rows]


async def price_sums(connection: asyncpg.Connection, span: SeriesRange) -> list[PriceSums]:
    rows = await connection.fetch(PRICE_SUMS, span.start, span.end, span.bucket, BUCKET_ORIGIN)
    return [PriceSums(**dict(row)) for row in rows]


async def indicators_between(
    connection: asyncpg.Connection, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    return [dict(row) for row in await connection.fetch(INDICATORS, start, end)]
