"""Writing telemetry batches to PostgreSQL: the writer's repository and its SQL.

A batch is COPYed into a session-local staging table, then moved into `miner_telemetry` by one statement that
skips readings already stored (the natural key (miner, recorded_at): a replayed reading is never a second row)
and adds exactly the rows it inserted to every rollup (`rollup_tables`). Why the staging table: PostgreSQL
refuses COPY into a table with row-level security for any role that does not bypass it, and the writer's role
does not; COPY into a temporary table and one INSERT … SELECT cost little more than the COPY alone
(docs/BENCHMARKS.md).

The batch's transaction first takes ROW EXCLUSIVE on `miner_telemetry`: dropping a partition needs ACCESS
EXCLUSIVE on its parent, so the set of partitions the batch reads cannot change under it.
"""

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Final, NamedTuple

import asyncpg

from windhash_fleet.rollup_tables import rollup_upserts
from windhash_fleet.telemetry_partitions import ensure_partitions, partition_days


class TelemetryRow(NamedTuple):
    miner_id: int
    recorded_at: datetime
    hashrate_ths: float
    temperature_c: float
    power_w: float
    fan_rpm: int
    sleeping: bool


COLUMNS: Final = TelemetryRow._fields
STAGING: Final = "telemetry_incoming"

CREATE_STAGING = f"""
CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING} (
    miner_id bigint, recorded_at timestamptz, hashrate_ths double precision, temperature_c real,
    power_w double precision, fan_rpm integer, sleeping boolean
) ON COMMIT DELETE ROWS"""

LOCK_TELEMETRY = "LOCK TABLE miner_telemetry IN ROW EXCLUSIVE MODE"

MINER_IDS = "SELECT serial_number, miner_id FROM hosting_miners WHERE serial_number = ANY($1::text[])"

_COLUMN_LIST = ", ".join(COLUMNS)
WRITE_STAGED = f"""
WITH inserted AS (
    INSERT INTO miner_telemetry ({_COLUMN_LIST})
    SELECT {_COLUMN_LIST} FROM {STAGING}
    ON CONFLICT (miner_id, recorded_at) DO NOTHING
    RETURNING {_COLUMN_LIST}
), {rollup_upserts("inserted")}
SELECT count(*) FROM inserted"""


class PostgresTelemetryStore:
    """The telemetry tables in the unit of work's transaction."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def partition_days(self) -> set[date]:
        """The days that have a partition; the set cannot change until the transaction ends."""
        await self._connection.execute(LOCK_TELEMETRY)
        return set(await partition_days(self._connection))

    async def create_partitions(self, days: Iterable[date]) -> int:
        created = 0
        for day in sorted(days):
            created += await ensure_partitions(self._connection, day, 0)
        return created

    async def miner_ids(self, serials: Collection[str]) -> dict[str, int]:
        rows = await self._connection.fetch(MINER_IDS, list(serials))
        return {row["serial_number"]: row["miner_id"] for row in rows}

    async def write(self, rows: Sequence[TelemetryRow]) -> int:
        """Store `rows` and add them to the rollups; returns how many were new (the rest were stored).
        Once per transaction: the staging table empties at commit (or with the rollback)."""
        if not rows:
            return 0
        await self._connection.execute(CREATE_STAGING)
        await self._connection.copy_records_to_table(STAGING, records=rows, columns=COLUMNS)
        written: int = await self._connection.fetchval(WRITE_STAGED)
        return written
