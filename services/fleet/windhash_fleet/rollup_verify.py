"""Do the rollups equal a recompute from the raw telemetry? Row by row, with the very queries the writer adds
batches with (`rollup_tables`), in one snapshot. `windhash fleet rollups-verify` and the tests use it.

Only periods the raw telemetry still covers can be checked: retention drops whole days of readings and keeps
their rollups, so `since` (default: the oldest day still held) bounds the check.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from windhash_fleet.rollup_tables import LATEST, MINER_HOURLY, SITE_DAILY, SITE_HOURLY, recomputed

# table → (its recompute, the column its time is in, how that column is truncated from a timestamp)
_TABLES: dict[str, tuple[str, str, str]] = {
    "miner_telemetry_hourly": (MINER_HOURLY, "hour", "date_trunc('hour', $1::timestamptz, 'UTC')"),
    "site_telemetry_hourly": (SITE_HOURLY, "hour", "date_trunc('hour', $1::timestamptz, 'UTC')"),
    "site_telemetry_daily": (SITE_DAILY, "day", "($1::timestamptz AT TIME ZONE 'UTC')::date"),
    "miner_telemetry_latest": (LATEST, "recorded_at", "$1::timestamptz"),
}


@dataclass(frozen=True)
class RollupDrift:
    table: str
    missing: list[tuple[Any, ...]]
    """Rows a recompute makes that the table lacks or holds differently."""
    unexpected: list[tuple[Any, ...]]
    """Rows the table holds that a recompute does not make."""


def drift_query(table: str) -> str:
    recompute, column, bound = _TABLES[table]
    where = f"r.recorded_at >= {bound}" if column != "recorded_at" else ""
    fresh = recomputed(recompute, where)
    stored = f"SELECT * FROM {table} WHERE {column} >= {bound}"
    if column == "recorded_at":  # the newest reading per miner: compare every miner's
        stored = f"SELECT * FROM {table} WHERE $1::timestamptz IS NOT NULL"
    return f"""
SELECT 'missing' AS side, * FROM (({fresh}) EXCEPT ({stored})) AS missing
UNION ALL
SELECT 'unexpected', * FROM (({stored}) EXCEPT ({fresh})) AS unexpected"""


async def oldest_reading_day_start(connection: asyncpg.Connection) -> datetime | None:
    value: datetime | None = await connection.fetchval(
        "SELECT date_trunc('day', min(recorded_at), 'UTC') FROM miner_telemetry"
    )
    return value


async def rollup_drift(connection: asyncpg.Connection, since: datetime | None = None) -> list[RollupDrift]:
    """The tables whose rows differ from a recompute (empty when all agree), from `since` on."""
    drifts = []
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        since = since or await oldest_reading_day_start(connection)
        if since is None:
            return []
        for table in _TABLES:
            rows = await connection.fetch(drift_query(table), since)
            missing = [tuple(row.values())[1:] for row in rows if row["side"] == "missing"]
            unexpected = [tuple(row.values())[1:] for row in rows if row["side"] == "unexpected"]
            if missing or unexpected:
                drifts.append(RollupDrift(table, missing, unexpected))
    return drifts
