"""Keeping `miner_telemetry`'s daily partitions: created ahead, dropped whole after the retention period.

The SQL functions (migrations 1200, 1201: they run as the table's owner) do the work under one advisory
lock; the telemetry writer's maintenance job (`telemetry_maintenance`) calls `maintain_partitions` every
hour, a batch with readings of a day that has no partition yet creates it (`telemetry_writer`), and
`windhash fleet partitions` runs the maintenance by hand.
Days are UTC days: the partition of day D holds readings with D 00:00 UTC <= recorded_at < D+1 00:00 UTC.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg

DAYS_AHEAD = 3
RETENTION_DAYS = 90
PARTITION_PREFIX = "miner_telemetry_p"


def partition_name(day: date) -> str:
    """The partition holding the readings of one UTC day (`miner_telemetry_partition_name` in SQL)."""
    return f"{PARTITION_PREFIX}{day:%Y%m%d}"


@dataclass(frozen=True)
class PartitionMaintenance:
    created: int
    dropped: tuple[str, ...]


async def ensure_partitions(connection: asyncpg.Connection, first_day: date, days_ahead: int) -> int:
    """Create the partitions of first_day .. first_day + days_ahead that are missing; how many were made."""
    return int(
        await connection.fetchval("SELECT ensure_miner_telemetry_partitions($1, $2)", first_day, days_ahead)
    )


async def drop_partitions_before(connection: asyncpg.Connection, keep_from: date) -> tuple[str, ...]:
    """Drop every daily partition of a day before `keep_from`; the names dropped."""
    rows = await connection.fetch("SELECT drop_miner_telemetry_partitions_before($1)", keep_from)
    return tuple(row[0] for row in rows)


async def maintain_partitions(
    connection: asyncpg.Connection,
    today: date,
    days_ahead: int = DAYS_AHEAD,
    retention_days: int = RETENTION_DAYS,
) -> PartitionMaintenance:
    """Today's and the next `days_ahead` days' partitions exist; those wholly older than `retention_days`
    before today are gone (today − retention_days is the oldest day kept)."""
    if retention_days < 1:
        raise ValueError("retention must keep at least one day")
    async with connection.transaction():
        created = await ensure_partitions(connection, today, days_ahead)
        dropped = await drop_partitions_before(connection, today - timedelta(days=retention_days))
    return PartitionMaintenance(created, dropped)


async def partition_days(connection: asyncpg.Connection) -> list[date]:
    """The days that have a partition, oldest first."""
    rows = await connection.fetch(
        "SELECT to_date(substr(child.relname, 18), 'YYYYMMDD') AS day FROM pg_inherits"
        " JOIN pg_class child ON child.oid = pg_inherits.inhrelid"
        " WHERE pg_inherits.inhparent = 'miner_telemetry'::regclass ORDER BY 1"
    )
    return [row["day"] for row in rows]
