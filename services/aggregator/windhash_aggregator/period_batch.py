"""Applying a batch of period-calculated events: the one function the Kafka consumer calls.

Exactly-once effects without Kafka transactions: the batch's summaries and the consumer's next offsets are
written in one PostgreSQL transaction (`consumer_positions`), and the Kafka offsets are committed only after
it. A message at an offset below the stored position was already applied and is skipped, so a crash between
the database commit and the Kafka commit (or any re-delivery) changes nothing. Applying an event means
recomputing its whole day from the facts, so duplicate events and events out of order are harmless too.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import asyncpg
from windhash_common.events import PeriodCalculatedEvent

from windhash_aggregator.recompute import RecomputedScope, recompute_days_and_rollups

TopicPartition = tuple[str, int]


@dataclass(frozen=True)
class PositionedEvent:
    """An event with the Kafka position it was read from."""

    topic: str
    partition: int
    offset: int
    event: PeriodCalculatedEvent

    @property
    def topic_partition(self) -> TopicPartition:
        return (self.topic, self.partition)


@dataclass(frozen=True)
class PeriodBatch:
    events: tuple[PositionedEvent, ...]
    next_offsets: Mapping[TopicPartition, int]
    """Per partition, the offset after the last message read, dead-lettered ones included."""


@dataclass(frozen=True)
class AppliedBatch:
    applied: tuple[PositionedEvent, ...]
    skipped: tuple[PositionedEvent, ...]
    scope: RecomputedScope
    committed_at: datetime


def next_offsets_after(positions: Iterable[tuple[str, int, int]]) -> dict[TopicPartition, int]:
    """From (topic, partition, offset) of every message read, the offset to resume from per partition."""
    next_offsets: dict[TopicPartition, int] = {}
    for topic, partition, offset in positions:
        next_offsets[(topic, partition)] = max(next_offsets.get((topic, partition), 0), offset + 1)
    return next_offsets


def unapplied_events(
    events: Sequence[PositionedEvent], stored: Mapping[TopicPartition, int]
) -> tuple[list[PositionedEvent], list[PositionedEvent]]:
    """Split events into (not yet applied, already applied) by the stored next offset of their partition."""
    fresh: list[PositionedEvent] = []
    seen: list[PositionedEvent] = []
    for positioned in events:
        applied_up_to = stored.get(positioned.topic_partition, 0)
        (fresh if positioned.offset >= applied_up_to else seen).append(positioned)
    return fresh, seen


def affected_days(events: Iterable[PositionedEvent]) -> list[date]:
    return sorted({positioned.event.settlement_date for positioned in events})


async def load_positions(
    connection: asyncpg.Connection, group: str, partitions: Iterable[TopicPartition], for_update: bool = False
) -> dict[TopicPartition, int]:
    wanted = sorted(set(partitions))
    if not wanted:
        return {}
    rows = await connection.fetch(
        "SELECT topic, partition, next_offset FROM consumer_positions"
        " WHERE consumer_group = $1 AND (topic, partition) IN"
        " (SELECT * FROM unnest($2::text[], $3::integer[]))"
        " ORDER BY topic, partition" + (" FOR UPDATE" if for_update else ""),
        group,
        [topic for topic, _ in wanted],
        [partition for _, partition in wanted],
    )
    return {(row["topic"], row["partition"]): row["next_offset"] for row in rows}


async def store_positions(
    connection: asyncpg.Connection, group: str, next_offsets: Mapping[TopicPartition, int]
) -> None:
    """Advance (never rewind) the stored positions."""
    for (topic, partition), next_offset in sorted(next_offsets.items()):
        await connection.execute(
            "INSERT INTO consumer_positions (consumer_group, topic, partition, next_offset)"
            " VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (consumer_group, topic, partition) DO UPDATE"
            " SET next_offset = GREATEST(consumer_positions.next_offset, EXCLUDED.next_offset),"
            " updated_at = now()",
            group,
            topic,
            partition,
            next_offset,
        )


async def apply_period_batch(connection: asyncpg.Connection, group: str, batch: PeriodBatch) -> AppliedBatch:
    """Recompute every day the batch's unapplied events touch (then their months and years) and store the
    consumer's positions, all in one transaction."""
    partitions = set(batch.next_offsets) | {positioned.topic_partition for positioned in batch.events}
    async with connection.transaction():
        stored = await load_positions(connection, group, partitions, for_update=True)
        fresh, seen = unapplied_events(batch.events, stored)
        scope = await recompute_days_and_rollups(connection, affected_days(fresh))
        await store_positions(connection, group, batch.next_offsets)
    return AppliedBatch(tuple(fresh), tuple(seen), scope, datetime.now(UTC))
