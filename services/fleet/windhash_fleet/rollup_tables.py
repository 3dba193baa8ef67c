"""The telemetry rollups: what each figure is, and the one SQL query per table that both keeps it current and
recomputes it.

Every rollup row holds counts, sums and a maximum of raw readings (`miner_telemetry`), never a ratio, so the
writer adds a batch's readings to the rows in the batch's own transaction and a recompute from the raw rows
gives the same rows, whatever the batches were (tests/integration/test_telemetry_rollups.py proves it). Sums
are exact integers, each reading rounded once to MH/s and mW, so the order in which readings are added cannot
change them (and integer sums cost a tenth of numeric ones: docs/BENCHMARKS.md).

    readings              readings received                 hashing_readings   those with hashrate > 0, awake
    hashrate_mhs_sum      Σ hashrate (MH/s)                 power_mw_sum       Σ power (mW)
    hashing_power_mw_sum  Σ power of the hashing readings   temperature_c_max  hottest chip seen

The figures people read are derived from them (`rollup_figures.py`), each reading standing for one poll
interval: average hashrate, uptime %, energy kWh, J/TH.

Tables (migration 1210): per miner and UTC hour; per site and UTC hour; per site and UTC day, where a reading
belongs to the site its miner was placed at when it was recorded (`hosting_miner_placements`), so a move never
rewrites a site's past; and each miner's newest reading (`miner_telemetry_latest`).

The queries read `{source}`: the rows a batch just inserted (the writer's CTE `inserted`), or
`miner_telemetry` itself, optionally limited to a time range, for a recompute; the sums are made once per
miner, site and hour (`PARTIAL`) and each table adds those up.
"""

from typing import Final

HASHING: Final = "r.hashrate_ths > 0 AND NOT r.sleeping"
_SUMS = f"""count(*) AS readings,
       count(*) FILTER (WHERE {HASHING}) AS hashing_readings,
       sum(round(r.hashrate_ths * 1e6)::bigint) AS hashrate_mhs_sum,
       sum(round(r.power_w * 1e3)::bigint) AS power_mw_sum,
       coalesce(sum(round(r.power_w * 1e3)::bigint) FILTER (WHERE {HASHING}), 0) AS hashing_power_mw_sum,
       max(r.temperature_c) AS temperature_c_max"""
SUM_COLUMNS: Final = (
    "readings",
    "hashing_readings",
    "hashrate_mhs_sum",
    "power_mw_sum",
    "hashing_power_mw_sum",
    "temperature_c_max",
)
_PLACED = """JOIN hosting_miner_placements AS p
    ON p.miner_id = r.miner_id AND r.recorded_at >= p.placed_at
   AND (p.removed_at IS NULL OR r.recorded_at < p.removed_at)"""

# The sums per miner, site and hour over `{source} AS r` (an optional `{where}` on r): every reading is
# converted and added once, whatever tables it feeds. Its site is the placement covering it (NULL, kept out of
# the site tables, for a reading outside every placement: one in flight when its miner was retired).
PARTIAL = f"""
SELECT r.miner_id, p.site_id, date_trunc('hour', r.recorded_at, 'UTC') AS hour,
       {_SUMS}
  FROM {{source}} AS r LEFT {_PLACED} {{where}}
 GROUP BY 1, 2, 3"""

_ADDED = """sum(readings) AS readings,
       sum(hashing_readings) AS hashing_readings,
       sum(hashrate_mhs_sum) AS hashrate_mhs_sum,
       sum(power_mw_sum) AS power_mw_sum,
       sum(hashing_power_mw_sum) AS hashing_power_mw_sum,
       max(temperature_c_max) AS temperature_c_max"""

# One query per table, over `partial` (PARTIAL as a CTE).
MINER_HOURLY = f"""
SELECT miner_id, hour, {_ADDED}
  FROM partial
 GROUP BY 1, 2"""

SITE_HOURLY = f"""
SELECT site_id, hour, {_ADDED}
  FROM partial WHERE site_id IS NOT NULL
 GROUP BY 1, 2"""

SITE_DAILY = f"""
SELECT site_id, (hour AT TIME ZONE 'UTC')::date AS day, {_ADDED}
  FROM partial WHERE site_id IS NOT NULL
 GROUP BY 1, 2"""

LATEST = """
SELECT DISTINCT ON (r.miner_id) r.miner_id, r.recorded_at, r.hashrate_ths, r.temperature_c, r.power_w,
       r.fan_rpm, r.sleeping
  FROM {source} AS r {where}
 ORDER BY r.miner_id, r.recorded_at DESC"""

LATEST_COLUMNS: Final = (
    "miner_id",
    "recorded_at",
    "hashrate_ths",
    "temperature_c",
    "power_w",
    "fan_rpm",
    "sleeping",
)


def _add_sums(key: str) -> str:
    """Add each aggregated row to its stored row (a new key is inserted as it is)."""
    added = ",\n       ".join(
        f"{column} = greatest(total.{column}, excluded.{column})"
        if column == "temperature_c_max"
        else f"{column} = total.{column} + excluded.{column}"
        for column in SUM_COLUMNS
    )
    return f"ON CONFLICT ({key}) DO UPDATE SET\n       {added}"


def rollup_upserts(source: str) -> str:
    """The CTEs that add the rows of `source` (a CTE of the caller's statement) to every rollup table."""
    columns = ", ".join(SUM_COLUMNS)
    latest = ", ".join(LATEST_COLUMNS)
    newer = ", ".join(f"{column} = excluded.{column}" for column in LATEST_COLUMNS[1:])
    return f"""
partial AS MATERIALIZED ({PARTIAL.format(source=source, where="")}
), miner_hours AS (
    INSERT INTO miner_telemetry_hourly AS total (miner_id, hour, {columns})
    {MINER_HOURLY}
    {_add_sums("miner_id, hour")}
    RETURNING 1
), site_hours AS (
    INSERT INTO site_telemetry_hourly AS total (site_id, hour, {columns})
    {SITE_HOURLY}
    {_add_sums("site_id, hour")}
    RETURNING 1
), site_days AS (
    INSERT INTO site_telemetry_daily AS total (site_id, day, {columns})
    {SITE_DAILY}
    {_add_sums("site_id, day")}
    RETURNING 1
), latest AS (
    INSERT INTO miner_telemetry_latest AS total ({latest})
    {LATEST.format(source=source, where="")}
    ON CONFLICT (miner_id) DO UPDATE SET {newer} WHERE excluded.recorded_at > total.recorded_at
    RETURNING 1
)"""


def recomputed(query: str, where: str = "") -> str:
    """A rollup table's rows recomputed from the raw readings (`where`: a condition on `r`, e.g. a range)."""
    condition = f"WHERE {where}" if where else ""
    if "{source}" in query:  # the newest readings: straight from the raw rows
        return query.format(source="miner_telemetry", where=condition)
    return f"WITH partial AS ({PARTIAL.format(source='miner_telemetry', where=condition)}) {query}"
