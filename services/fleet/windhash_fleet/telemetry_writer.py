"""The telemetry writer's handler: a batch of telemetry events → rows in `miner_telemetry` and its rollups.

    MinerTelemetryEvent → `TelemetryWriter.__call__` → `reading_rules.judge` → `telemetry_store`
    (COPY, then the rows and their rollups in one statement: `rollup_tables`)

Exactly once without Kafka transactions: the consumer runtime calls this inside the transaction in which it
locked the writer group's stored positions (messages below them were applied already and never reach here),
and stores the next positions in the same transaction. The natural key (miner, recorded_at) makes a reading
that reaches the table twice by any other road (a replay from reset positions) a no-op, never a second row,
and the rollups add only the rows actually inserted.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import asyncpg
from windhash_common.consumer_runtime.consumer import Applied, apply_batch, dead_letter_messages
from windhash_common.consumer_runtime.messages import (
    Batch,
    ConsumedMessage,
    Decoded,
    decode_json_model,
)
from windhash_common.dead_letters import Rejection
from windhash_common.events_fleet import MinerTelemetryEvent

from windhash_fleet.reading_rules import KeepWindow, judge, utc_day
from windhash_fleet.telemetry_store import TelemetryRow
from windhash_fleet.writer_unit_of_work import PostgresWriterUnitOfWork, WriterUnitOfWork

SERVICE = "fleet-writer"
MAX_MESSAGE_BYTES = 16_384
Clock = Callable[[], datetime]


def decode_telemetry(message: ConsumedMessage) -> object:
    """The message's MinerTelemetryEvent, or the `Rejection` saying why it has none (NaN, negative, wrong
    types and absurd values are refused by the schema)."""
    return decode_json_model(MinerTelemetryEvent, message.value, MAX_MESSAGE_BYTES)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class MinerDirectory:
    """Serial → miner_id, learnt from `hosting_miners` as serials appear (a serial's id never changes)."""

    ids: dict[str, int] = field(default_factory=dict)

    def missing(self, serials: set[str]) -> set[str]:
        return {serial for serial in serials if serial not in self.ids}


@dataclass(frozen=True)
class WrittenBatch:
    written: int
    """Rows inserted (and added to the rollups)."""
    duplicates: int
    """Readings already stored: kept once."""
    refused: tuple[str, ...]
    """The rejection kinds of the readings the writer dead-lettered (the runtime counts the undecodable)."""
    recorded_at: tuple[datetime, ...]
    """When each reading kept was taken (the reading-to-row lag is measured from it after the commit)."""
    partitions_created: int = 0


@dataclass
class TelemetryWriter:
    """The handler, with what it keeps between batches (the miner directory) and its settings."""

    dead_letter_topic: str
    retention_days: int
    clock_skew: timedelta
    directory: MinerDirectory = field(default_factory=MinerDirectory)
    clock: Clock = _now

    async def __call__(self, batch: Batch[MinerTelemetryEvent], uow: WriterUnitOfWork) -> WrittenBatch:
        events = batch.events
        serials = {positioned.event.miner_serial for positioned in events}
        if missing := self.directory.missing(serials):
            self.directory.ids.update(await uow.telemetry.miner_ids(missing))
        window = KeepWindow.at(self.clock(), self.retention_days, self.clock_skew)
        ids = self.directory.ids
        by_day: dict[date, list[TelemetryRow]] = {}
        kept_at: list[datetime] = []
        refused: list[tuple[ConsumedMessage, Rejection]] = []
        for positioned in events:  # one pass: a replay brings millions of readings
            event = positioned.event
            day = utc_day(event.recorded_at)
            rejection = judge(event, day, event.miner_serial in ids, window)
            if rejection is not None:
                refused.append((positioned.message, rejection))
                continue
            by_day.setdefault(day, []).append(_row(ids[event.miner_serial], event))
            kept_at.append(event.recorded_at)
        created = await self._ensure_partitions(set(by_day), uow)
        written = await uow.telemetry.write(by_day)
        await uow.outbox.add(dead_letter_messages(SERVICE, self.dead_letter_topic, refused))
        return WrittenBatch(
            written=written,
            duplicates=len(kept_at) - written,
            refused=tuple(rejection.kind for _, rejection in refused),
            recorded_at=tuple(kept_at),
            partitions_created=created,
        )

    async def _ensure_partitions(self, days: set[date], uow: WriterUnitOfWork) -> int:
        """Days kept have partitions ahead (the maintenance job); a reading of a day that has none yet (a
        backlog older than the partitions made ahead) gets its day's partition here."""
        if not days:
            return 0
        missing = days - await uow.telemetry.partition_days()
        return await uow.telemetry.create_partitions(missing) if missing else 0


def _row(miner_id: int, event: MinerTelemetryEvent) -> TelemetryRow:
    return TelemetryRow(
        miner_id,
        event.recorded_at,
        event.hashrate_ths,
        event.temperature_c,
        event.power_w,
        event.fan_rpm,
        event.sleeping,
    )


async def apply_messages(
    connection: asyncpg.Connection, messages: Sequence[ConsumedMessage], writer: TelemetryWriter, group: str
) -> Applied[WrittenBatch]:
    """One batch of messages through the writer's whole transaction (positions, handler, dead letters), on
    `connection`: what the consumer does with a batch, for tests and benchmarks."""
    ordered = sorted(messages, key=lambda message: (message.topic, message.partition, message.offset))
    decoded: list[Decoded[object]] = [Decoded(message, decode_telemetry(message)) for message in ordered]
    async with PostgresWriterUnitOfWork(connection) as uow:
        return await apply_batch(uow, decoded, writer, SERVICE, group, writer.dead_letter_topic)
