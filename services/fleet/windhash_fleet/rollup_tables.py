"""The telemetry rollups: what each figure is, and the one SQL query per table that both keeps it current and
recomputes it.

Every rollup row holds counts, sums and a maximum of raw readings (`miner_telemetry`), never a ratio, so the
writer adds a batch's readings to the rows in the batch's own transaction and a recompute from the raw rows
gives the same rows, whatever the batches were (tests/integration/test_telemetry_rollups.py proves it). Sums
are exact (`numeric`), so the order in which readings are added cannot change them.

    readings              readings received                 hashing_readings  those with hashrate > 0, awake
    hashrate_ths_sum      Σ hashrate (TH/s)                 power_w_sum       Σ power (W)
    hashing_power_w_sum   Σ power of the hashing readings   temperature_c_max hottest chip seen

The figures people read are derived from them (`rollup_figures.py`), each reading standing for one poll
interval: average hashrate, uptime %, energy kWh, J/TH.

Tables (migration 1210): per miner and UTC hour; per site and UTC hour; per site and UTC day, where a reading
belongs to the site its miner was placed at when it was recorded (`hosting_miner_placements`), so a move never
rewrites a site's past; and each miner's newest reading (`miner_telemetry_latest`).

Each query reads `{source}`: the rows a batch just inserted (the writer's CTE `inserted`), or
`miner_telemetry` itself, optionally limited to a time range, for a recompute.
"""

from typing import Final

HASHING: Final = "r.hashrate_ths > 0 AND NOT r.sleeping"
_SUMS = f"""count(*) AS readings,
       count(*) FILTER (WHERE {HASHING}) AS hashing_readings,
       sum(r.hashrate_ths::numeric) AS hashrate_ths_sum,
       sum(r.power_w::numeric) AS power_w_sum,
       coalesce(sum(r.power_w::numeric) FILTER (WHERE {HASHING}), 0) AS hashing_power_w_sum,
       max(r.temperature_c) AS temperature_c_max"""
SUM_COLUMNS: Final = (
    "readings",
    "hashing_readings",
    "hashrate_ths_sum",
    "power_w_sum",
    "hashing_power_w_sum",
    "temperature_c_max",
)
_PLACED = """JOIN hosting_miner_placements AS p
    ON p.miner_id = r.miner_id AND r.recorded_at >= p.placed_at
   AND (p.removed_at IS NULL OR r.recorded_at < p.removed_at)"""

# One query per table over `{source} AS r` (and an optional `{where}` on r).
MINER_HOURLY = f"""
SELECT r.miner_id, date_trunc('hour', r.recorded_at, 'UTC') AS hour,
       {_SUMS}
  FROM {{source}} AS r {{where}}
 GROUP BY 1, 2"""

SITE_HOURLY = f"""
SELECT p.site_id, date_trunc('hour', r.recorded_at, 'UTC') AS hour,
       {_SUMS}
  FROM {{source}} AS r {_PLACED} {{where}}
 GROUP BY 1, 2"""

SITE_DAILY = f"""
SELECT p.site_id, (r.recorded_at AT TIME ZONE 'UTC')::date AS day,
       {_SUMS}
  FROM {{source}} AS r {_PLACED} {{where}}
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
    where = ""
    columns = ", ".join(SUM_COLUMNS)
    latest = ", ".join(LATEST_COLUMNS)
    newer = ", ".join(f"{column} = excluded.{column}" for column in LATEST_COLUMNS[1:])
    return f"""
miner_hours AS (
    INSERT INTO miner_telemetry_hourly AS total (miner_id, hour, {columns})
    {MINER_HOURLY.format(source=source, where=where)}
    {_add_sums("miner_id, hour")}
    RETURNING 1
), site_hours AS (
    INSERT INTO site_telemetry_hourly AS total (site_id, hour, {columns})
    {SITE_HOURLY.format(source=source, where=where)}
    {_add_sums("site_id, hour")}
    RETURNING 1
), site_days AS (
    INSERT INTO site_telemetry_daily AS total (site_id, day, {columns})
    {SITE_DAILY.format(source=source, where=where)}
    {_add_sums("site_id, day")}
    RETURNING 1
), latest AS (
    INSERT INTO miner_telemetry_latest AS total ({latest})
    {LATEST.format(source=source, where=where)}
    ON CONFLICT (miner_id) DO UPDATE SET {newer} WHERE excluded.recorded_at > total.recorded_at
    RETURNING 1
)"""


def recomputed(query: str, where: str = "") -> str:
    """A rollup table's rows recomputed from the raw readings (`where`: a condition on `r`, e.g. a range)."""
    return query.format(source="miner_telemetry", where=f"WHERE {where}" if where else "")
