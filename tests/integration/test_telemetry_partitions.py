"""miner_telemetry's daily partitions on the real PostgreSQL: created ahead, a reading lands in its UTC day's
partition on either side of midnight, retention drops whole partitions and nothing else."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest
from windhash_fleet.telemetry_partitions import maintain_partitions, partition_days

pytestmark = pytest.mark.integration

INSERT = (
    "INSERT INTO miner_telemetry"
    " (miner_id, recorded_at, hashrate_ths, temperature_c, power_w, fan_rpm, sleeping)"
    " VALUES ($1, $2, 100.0, 65.0, 3000.0, 5400, false)"
)


@pytest.fixture
async def connection(pg_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(pg_dsn)
    yield connection
    await connection.close()


async def _partition_of(connection: asyncpg.Connection, miner_id: int, at: datetime) -> str:
    return str(
        await connection.fetchval(
            "SELECT tableoid::regclass::text FROM miner_telemetry WHERE miner_id = $1 AND recorded_at = $2",
            miner_id,
            at,
        )
    )


async def test_readings_either_side_of_utc_midnight_land_in_their_own_days_partitions(
    connection: asyncpg.Connection,
) -> None:
    today = date(2026, 3, 28)  # the eve of the spring clock change: partitions follow UTC days regardless
    done = await maintain_partitions(connection, today, days_ahead=2, retention_days=90)
    assert done.created == 3 and done.dropped == ()
    assert await partition_days(connection) == [today, today + timedelta(days=1), today + timedelta(days=2)]

    before_midnight = datetime(2026, 3, 28, 23, 59, 59, 999999, tzinfo=UTC)
    midnight = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    await connection.execute(INSERT, 1, before_midnight)
    await connection.execute(INSERT, 1, midnight)
    assert await _partition_of(connection, 1, before_midnight) == "miner_telemetry_p20260328"
    assert await _partition_of(connection, 1, midnight) == "miner_telemetry_p20260329"

    # A reading for a day without a partition is refused, never parked somewhere retention would miss.
    with pytest.raises(asyncpg.CheckViolationError, match="no partition"):
        await connection.execute(INSERT, 1, datetime(2026, 4, 5, tzinfo=UTC))
    # The natural key makes a repeated write a conflict, not a second row.
    with pytest.raises(asyncpg.UniqueViolationError):
        await connection.execute(INSERT, 1, midnight)


async def test_retention_drops_whole_old_partitions_and_keeps_the_rest(
    connection: asyncpg.Connection,
) -> None:
    first = date(2026, 1, 1)
    await maintain_partitions(connection, first, days_ahead=9, retention_days=90)
    for offset in range(10):
        await connection.execute(INSERT, 7, datetime(2026, 1, 1 + offset, 12, tzinfo=UTC))
    # An unrelated table whose name looks almost like a partition is never touched.
    await connection.execute("CREATE TABLE miner_telemetry_p2026010 (x int)")

    done = await maintain_partitions(connection, date(2026, 1, 8), days_ahead=2, retention_days=3)

    assert done.dropped == tuple(f"miner_telemetry_p2026010{day}" for day in range(1, 5))
    assert done.created == 0  # 8, 9 and 10 January existed already
    days = await partition_days(connection)
    assert days == [date(2026, 1, day) for day in range(5, 11)]
    kept = await connection.fetch("SELECT recorded_at FROM miner_telemetry ORDER BY recorded_at")
    assert [row[0].day for row in kept] == list(range(5, 11))
    assert await connection.fetchval("SELECT to_regclass('miner_telemetry_p2026010') IS NOT NULL")

    again = await maintain_partitions(connection, date(2026, 1, 8), days_ahead=2, retention_days=3)
    assert again.created == 0 and again.dropped == ()  # idempotent
