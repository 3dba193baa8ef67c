"""Writing telemetry batches to PostgreSQL: the writer's repository and its SQL.

A batch is COPYed into a session-local staging table (the rollups are added from it), then into its days'
partitions of `miner_telemetry` directly: PostgreSQL refuses COPY into a table with row-level security to any
role that does not bypass it, and a partition has no policy of its own; only the writer's role may insert
into one (migration 1210, `db_privileges.PARTITION_PRIVILEGES`). That COPY runs in a savepoint: a reading
already stored (the natural key (miner, recorded_at): a replayed topic) makes it fail whole, and then the
batch goes in by one INSERT … ON CONFLICT DO NOTHING that skips what is stored and adds only the rows it
inserted to the rollups. The first way costs about as much as a plain COPY; the second is for replays.

The batch's transaction first takes ROW EXCLUSIVE on `miner_telemetry`: dropping a partition needs ACCESS
EXCLUSIVE on its parent, so the set of partitions the batch reads cannot change under it.
"""

import itertools
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Final, NamedTuple

import asyncpg

from windhash_fleet.rollup_tables import rollup_upserts
from windhash_fleet.telemetry_partitions import ensure_partitions, partition_days, partition_name


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
# Every staged row was stored by the COPY into the partitions: the rollups add them all.
ADD_STAGED = f"""
WITH {rollup_upserts(STAGING)}
SELECT count(*) FROM {STAGING}"""


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

    async def write(self, rows_by_day: Mapping[date, Sequence[TelemetryRow]]) -> int:
        """Store the rows (by their UTC day) and add them to the rollups; returns how many were new (the rest
        were stored already). Once per transaction: the staging table empties at commit (or rollback)."""
        if not any(rows_by_day.values()):
            return 0
        connection = self._connection
        await connection.execute(CREATE_STAGING)
        every = itertools.chain.from_iterable(rows_by_day.values())
        await connection.copy_records_to_table(STAGING, records=every, columns=COLUMNS)
        try:
            async with connection.transaction():
                for day, day_rows in rows_by_day.items():
                    await connection.copy_records_to_table(
                        partition_name(day), records=day_rows, columns=COLUMNS
                    )
        except asyncpg.UniqueViolationError:
            written: int = await connection.fetchval(WRITE_STAGED)
            return written
        added: int = await connection.fetchval(ADD_STAGED)
        return added
