"""The rollups' invariant, property-tested against the real PostgreSQL: after any sequence of telemetry
batches (readings across UTC midnight, asleep or idle miners, re-deliveries, duplicates, readings arriving
late) and miners moving between sites, applied through the writer's batch transaction as the fleet's role
(`windhash_fleet.telemetry_writer.apply_messages`), every rollup row equals

- what this test computes in Python from its own model of the readings and placements (independently of the
  writer's SQL), and
- a recompute from the raw telemetry (`rollup_verify.rollup_drift`, the same queries `windhash fleet
  rollups-verify` runs).

Readings are in the future of the database's clock, so a move's instant (after the miner's newest stored
reading) falls between readings, and later readings of a moved miner belong to its new site."""

import struct
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from windhash_common.audit import Actor
from windhash_common.consumer_runtime.messages import ConsumedMessage
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.events_fleet import MinerTelemetryEvent
from windhash_common.topics import Topics
from windhash_fleet.miner_inputs import MinerMove
from windhash_fleet.miner_registry import move_miner
from windhash_fleet.rollup_verify import rollup_drift
from windhash_fleet.telemetry_writer import TelemetryWriter, apply_messages
from windhash_testing.fleet_telemetry import message, reading, register_site

pytestmark = pytest.mark.integration

GROUP = "rollup-invariant"
SERIALS = ("ROLL-A1", "ROLL-A2", "ROLL-B1", "ROLL-B2")
TODAY = datetime.now(UTC).date()
# 22:00 the day after tomorrow: the readings span UTC midnight, ahead of the database's clock.
BASE = datetime(TODAY.year, TODAY.month, TODAY.day, 22, tzinfo=UTC) + timedelta(days=2)
WRITER_NOW = BASE + timedelta(days=1)


@dataclass(frozen=True)
class Write:
    miner: int
    minute: int
    hashrate_tenths: int
    power_w: int
    temperature_tenths: int
    sleeping: bool


@dataclass(frozen=True)
class Redeliver:
    """Kafka delivers an applied message again (same offset)."""

    pick: int


@dataclass(frozen=True)
class Duplicate:
    """A reading published twice (a new offset)."""

    pick: int


@dataclass(frozen=True)
class Move:
    miner: int


writes = st.builds(
    Write,
    miner=st.integers(0, len(SERIALS) - 1),
    minute=st.integers(0, 239),
    hashrate_tenths=st.sampled_from((0, 1, 999, 1043, 2000)) | st.integers(0, 3000),
    power_w=st.integers(20, 6000),
    temperature_tenths=st.integers(-100, 1200),
    sleeping=st.booleans(),
)
actions = st.one_of(
    writes,
    writes,
    writes,
    st.builds(Redeliver, st.integers(0, 99)),
    st.builds(Duplicate, st.integers(0, 99)),
    st.builds(Move, st.integers(0, len(SERIALS) - 1)),
)


def scaled(value: float, places: int) -> int:
    """The reading in the rollups' integer unit (MH/s: 6 places of TH/s; mW: 3 of W), exactly."""
    return int((Decimal(repr(value)) * 10**places).to_integral_value())


def as_real(value: float) -> float:
    """The value a `real` column gives back."""
    return float(struct.unpack("f", struct.pack("f", value))[0])


@dataclass
class Model:
    """The readings stored and where each miner was when: what the rollups must say."""

    ids: dict[str, int]
    sites: dict[str, int]
    readings: dict[tuple[int, datetime], MinerTelemetryEvent] = field(default_factory=dict)
    placements: dict[int, list[tuple[datetime, int]]] = field(default_factory=dict)

    def site_at(self, miner_id: int, at: datetime) -> int:
        placed = [site for start, site in self.placements[miner_id] if start <= at]
        return placed[-1]


@dataclass
class Scenario:
    connection: asyncpg.Connection
    model: Model
    messages: list[ConsumedMessage] = field(default_factory=list)
    next_offset: int = 0
    """The writer's stored position: messages below it were applied."""

    def publish(self, event: MinerTelemetryEvent) -> ConsumedMessage:
        published = message(event, len(self.messages))
        self.messages.append(published)
        return published

    async def perform(self, action: Write | Redeliver | Duplicate | Move) -> ConsumedMessage | None:
        if isinstance(action, Write):
            serial = SERIALS[action.miner]
            # Microseconds from the offset: two readings of one miner never share a time (the collector stamps
            # each reply to the microsecond), so which of two different ones is stored is never in question.
            at = BASE + timedelta(minutes=action.minute, microseconds=len(self.messages))
            event = reading(
                serial,
                at,
                hashrate_ths=action.hashrate_tenths / 10,
                power_w=float(action.power_w),
                temperature_c=action.temperature_tenths / 10,
                sleeping=action.sleeping,
            )
            return self.publish(event)
        if isinstance(action, Redeliver | Duplicate) and self.messages:
            earlier = self.messages[action.pick % len(self.messages)]
            if isinstance(action, Redeliver):
                return earlier
            assert earlier.value is not None
            return self.publish(MinerTelemetryEvent.model_validate_json(earlier.value))
        if isinstance(action, Move):
            await self.move(SERIALS[action.miner])
        return None

    async def move(self, serial: str) -> None:
        miner_id = self.model.ids[serial]
        here = self.model.placements[miner_id][-1][1]
        there = next(site for site in self.model.sites.values() if site != here)
        async with self.connection.transaction():
            await move_miner(
                self.connection, Topics("rollups"), Actor("test"), serial, MinerMove(site_id=there)
            )
        placed_at = await self.connection.fetchval(
            "SELECT placed_at FROM hosting_miner_placements WHERE miner_id = $1 AND removed_at IS NULL",
            miner_id,
        )
        self.model.placements[miner_id].append((placed_at, there))

    def applied(self, batch: list[ConsumedMessage]) -> None:
        """What a batch the writer committed stored (messages below the position were skipped)."""
        for consumed in batch:
            if consumed.offset < self.next_offset:
                continue
            assert consumed.value is not None
            event = MinerTelemetryEvent.model_validate_json(consumed.value)
            key = (self.model.ids[event.miner_serial], event.recorded_at)
            self.model.readings.setdefault(key, event)
        self.next_offset = max([self.next_offset, *(consumed.offset + 1 for consumed in batch)])


def _sums(events: list[MinerTelemetryEvent]) -> tuple[Any, ...]:
    hashing = [event for event in events if event.hashrate_ths > 0 and not event.sleeping]
    return (
        len(events),
        len(hashing),
        sum(scaled(event.hashrate_ths, 6) for event in events),
        sum(scaled(event.power_w, 3) for event in events),
        sum(scaled(event.power_w, 3) for event in hashing),
        max(as_real(event.temperature_c) for event in events),
    )


def expected(model: Model) -> dict[str, set[tuple[Any, ...]]]:
    by_miner_hour: dict[tuple[int, datetime], list[MinerTelemetryEvent]] = defaultdict(list)
    by_site_hour: dict[tuple[int, datetime], list[MinerTelemetryEvent]] = defaultdict(list)
    by_site_day: dict[tuple[int, date], list[MinerTelemetryEvent]] = defaultdict(list)
    latest: dict[int, MinerTelemetryEvent] = {}
    for (miner_id, at), event in model.readings.items():
        hour = at.replace(minute=0, second=0, microsecond=0)
        site = model.site_at(miner_id, at)
        by_miner_hour[(miner_id, hour)].append(event)
        by_site_hour[(site, hour)].append(event)
        by_site_day[(site, at.date())].append(event)
        if miner_id not in latest or latest[miner_id].recorded_at < at:
            latest[miner_id] = event
    return {
        "miner_telemetry_hourly": {(*key, *_sums(events)) for key, events in by_miner_hour.items()},
        "site_telemetry_hourly": {(*key, *_sums(events)) for key, events in by_site_hour.items()},
        "site_telemetry_daily": {(*key, *_sums(events)) for key, events in by_site_day.items()},
        "miner_telemetry_latest": {
            (
                miner_id,
                e.recorded_at,
                e.hashrate_ths,
                as_real(e.temperature_c),
                e.power_w,
                e.fan_rpm,
                e.sleeping,
            )
            for miner_id, e in latest.items()
        },
    }


async def stored(connection: asyncpg.Connection) -> dict[str, set[tuple[Any, ...]]]:
    found = {}
    for table in ("miner_telemetry_hourly", "site_telemetry_hourly", "site_telemetry_daily"):
        found[table] = {tuple(row.values()) for row in await connection.fetch(f"SELECT * FROM {table}")}
    rows = await connection.fetch("SELECT * FROM miner_telemetry_latest")
    found["miner_telemetry_latest"] = {tuple(row.values()) for row in rows}
    return found


@dataclass(frozen=True)
class Fleet:
    superuser: asyncpg.Connection
    writer: asyncpg.Connection
    """The fleet's own role, as the writer connects (row-level security on)."""
    ids: dict[str, int]
    sites: dict[str, int]
    home: dict[int, int]

    def fresh_model(self) -> Model:
        start = datetime.min.replace(tzinfo=UTC)
        return Model(self.ids, self.sites, placements={m: [(start, site)] for m, site in self.home.items()})


@pytest.fixture
async def fleet(pg_dsn: str) -> AsyncIterator[Fleet]:
    superuser = await asyncpg.connect(pg_dsn)
    site_a, ids_a = await register_site(superuser, "Roll A", SERIALS[:2], address_block=1)
    site_b, ids_b = await register_site(superuser, "Roll B", SERIALS[2:], address_block=2)
    writer = await asyncpg.connect(dsn_as(pg_dsn, DatabaseRole.FLEET))
    home = {**dict.fromkeys(ids_a.values(), site_a), **dict.fromkeys(ids_b.values(), site_b)}
    yield Fleet(superuser, writer, {**ids_a, **ids_b}, {"A": site_a, "B": site_b}, home)
    await writer.close()
    await superuser.close()


async def _reset(fleet: Fleet) -> None:
    # DELETE, not TRUNCATE: on a handful of rows it is faster, and this runs per example.
    tables = (
        "miner_telemetry",
        "miner_telemetry_hourly",
        "site_telemetry_hourly",
        "site_telemetry_daily",
        "miner_telemetry_latest",
        "consumer_positions",
        "hosting_miner_placements",
    )
    await fleet.superuser.execute("; ".join(f"DELETE FROM {table}" for table in tables))
    await fleet.superuser.executemany(
        "INSERT INTO hosting_miner_placements (miner_id, site_id, placed_at) VALUES ($1, $2, '-infinity')",
        list(fleet.home.items()),
    )
    await fleet.superuser.executemany(
        "UPDATE hosting_miners SET site_id = $2 WHERE miner_id = $1", list(fleet.home.items())
    )


@settings(
    max_examples=120,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=st.lists(st.lists(actions, min_size=1, max_size=12), min_size=1, max_size=5))
async def test_rollups_equal_the_readings_after_every_batch(
    fleet: Fleet, batches: list[list[Write | Redeliver | Duplicate | Move]]
) -> None:
    await _reset(fleet)
    model = fleet.fresh_model()
    scenario = Scenario(fleet.superuser, model)
    writer = TelemetryWriter("rollups.dead-letter", 90, timedelta(minutes=5), clock=lambda: WRITER_NOW)
    for actions_in_batch in batches:
        batch = [consumed for action in actions_in_batch if (consumed := await scenario.perform(action))]
        if not batch:
            continue
        await apply_messages(fleet.writer, batch, writer, GROUP)
        scenario.applied(batch)

        assert await stored(fleet.writer) == expected(model)
        assert await rollup_drift(fleet.writer) == []
