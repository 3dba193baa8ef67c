"""The telemetry writer's transaction on the real PostgreSQL, as the fleet's own database role (row-level
security on): a batch is written once with its rollups, bad readings are dead-lettered with their reason, a
batch crossing UTC midnight gets its new day's partition, and retention drops whole days and nothing else."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.events_fleet import MinerTelemetryEvent
from windhash_fleet.rollup_verify import rollup_drift
from windhash_fleet.settings import FleetSettings
from windhash_fleet.telemetry_maintenance import maintain_once
from windhash_fleet.telemetry_partitions import partition_days
from windhash_fleet.telemetry_writer import TelemetryWriter, apply_messages
from windhash_testing.fleet_telemetry import messages, reading, register_site

pytestmark = pytest.mark.integration

GROUP = "test-fleet-writer"
DEAD = "test.dead-letter.v1"
NOW = datetime(2026, 3, 29, 0, 2, tzinfo=UTC)
SERIALS = ("WRT-1", "WRT-2", "WRT-3")


def writer(now: datetime = NOW) -> TelemetryWriter:
    return TelemetryWriter(DEAD, retention_days=90, clock_skew=timedelta(minutes=5), clock=lambda: now)


@pytest.fixture
async def fleet(pg_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """The fleet's role (as the writer connects), with three registered miners."""
    superuser = await asyncpg.connect(pg_dsn)
    try:
        await register_site(superuser, "Writer site (SYNTHETIC)", SERIALS)
    finally:
        await superuser.close()
    connection = await asyncpg.connect(dsn_as(pg_dsn, DatabaseRole.FLEET))
    yield connection
    await connection.close()


def _raw(**changes: object) -> bytes:
    body = json.loads(reading("WRT-1", NOW - timedelta(minutes=1)).model_dump_json())
    body.update(changes)
    return json.dumps(body).encode()


async def _dead_letters(connection: asyncpg.Connection) -> list[str]:
    rows = await connection.fetch("SELECT payload->>'reason' FROM outbox WHERE topic = $1 ORDER BY id", DEAD)
    return [row[0] for row in rows]


async def test_a_batch_is_written_once_with_its_rollups_and_bad_readings_are_dead_lettered(
    fleet: asyncpg.Connection,
) -> None:
    minute = NOW - timedelta(minutes=30)
    good = [reading(serial, minute + timedelta(minutes=step)) for step in range(3) for serial in SERIALS]
    events: list[MinerTelemetryEvent | bytes] = [
        *good,
        good[0],  # published twice: stored once
        _raw(hashrate_ths=float("nan")),  # the JSON literal NaN
        _raw(power_w=-40.0),
        _raw(temperature_c="65"),
        _raw(hashrate_ths=1e9),
        reading("WRT-404", minute),
        reading("WRT-2", NOW - timedelta(days=91)),
        reading("WRT-3", NOW + timedelta(hours=1)),
    ]
    batch = messages(events)
    applied = await apply_messages(fleet, batch, writer(), GROUP)

    assert (applied.result.written, applied.result.duplicates) == (9, 1)
    assert applied.result.refused == ("unknown_miner", "past_retention", "in_future")
    assert applied.dead_letters == ("schema", "schema", "schema", "schema")
    assert await fleet.fetchval("SELECT count(*) FROM miner_telemetry") == 9
    reasons = await _dead_letters(fleet)
    assert len(reasons) == 7
    assert any("hashrate_ths" in reason for reason in reasons)
    assert any("WRT-404" in reason and reason.startswith("unknown_miner") for reason in reasons)
    position = await fleet.fetchval(
        "SELECT next_offset FROM consumer_positions WHERE consumer_group = $1", GROUP
    )
    assert position == len(batch)
    hourly = await fleet.fetch("SELECT readings FROM miner_telemetry_hourly ORDER BY miner_id")
    assert [row["readings"] for row in hourly] == [3, 3, 3]
    assert await rollup_drift(fleet) == []

    again = await apply_messages(fleet, batch, writer(), GROUP)  # a redelivery after a crash
    assert (again.applied, again.skipped) == (0, len(batch))
    assert await fleet.fetchval("SELECT count(*) FROM miner_telemetry") == 9
    assert len(await _dead_letters(fleet)) == 7
    assert await rollup_drift(fleet) == []


async def test_a_batch_across_utc_midnight_gets_its_days_partition_and_retention_drops_whole_days(
    fleet: asyncpg.Connection,
) -> None:
    before = datetime(2026, 3, 28, 23, 58, tzinfo=UTC)
    events = [reading(SERIALS[0], before + timedelta(minutes=step)) for step in range(4)]  # 23:58 .. 00:01
    assert await partition_days(fleet) == []
    applied = await apply_messages(fleet, messages(events), writer(), GROUP)
    assert applied.result.partitions_created == 2
    where = await fleet.fetch(
        "SELECT tableoid::regclass::text AS partition, count(*) FROM miner_telemetry GROUP BY 1 ORDER BY 1"
    )
    assert [tuple(row) for row in where] == [
        ("miner_telemetry_p20260328", 2),
        ("miner_telemetry_p20260329", 2),
    ]
    days = await fleet.fetch("SELECT day, readings FROM site_telemetry_daily ORDER BY day")
    assert [(row["day"].isoformat(), row["readings"]) for row in days] == [
        ("2026-03-28", 2),
        ("2026-03-29", 2),
    ]

    later = NOW + timedelta(days=90)  # 28 March is now past the 90 days kept; 29 March is the oldest kept
    async with fleet.transaction():
        report = await maintain_once(fleet, FleetSettings(), later)
    assert report.partitions.dropped == ("miner_telemetry_p20260328",)
    assert report.partition_days[0].isoformat() == "2026-03-29"
    assert report.partition_days[-1] == (later + timedelta(days=3)).date()
    assert await fleet.fetchval("SELECT count(*) FROM miner_telemetry") == 2
    hours = await fleet.fetchval("SELECT sum(readings) FROM miner_telemetry_hourly")
    assert hours == 4, "the rollups outlive the raw readings they summarise"
    assert await rollup_drift(fleet) == []  # from the oldest day still held

    late = reading(SERIALS[1], before)  # a reading of the dropped day, arriving late
    refused = await apply_messages(fleet, messages([late], first_offset=4), writer(later), GROUP)
    assert refused.result.refused == ("past_retention",)
    assert "miner_telemetry_p20260328" not in {
        row[0] for row in await fleet.fetch("SELECT tableoid::regclass::text FROM miner_telemetry")
    }
