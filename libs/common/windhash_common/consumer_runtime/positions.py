"""Tracking records: the Kafka position each consumer group has applied, stored with its effects.

`consumer_positions` holds, per group and partition, the offset of the next message to apply. The runtime
locks a batch's rows at the start of its transaction (a message below its partition's position was applied
already), advances them (never backwards) at the end, and seeks to them on every partition assignment
(aiokafka's "storing offsets outside Kafka"), so a crash anywhere replays nothing twice.
"""

from collections.abc import Iterable, Mapping

import asyncpg

from windhash_common.consumer_runtime.messages import TopicPartitionKey

_SELECT = (
    "SELECT topic, partition, next_offset FROM consumer_positions"
    " WHERE consumer_group = $1 AND (topic, partition) IN (SELECT * FROM unnest($2::text[], $3::int[]))"
    " ORDER BY topic, partition"
)


async def load_positions(
    connection: asyncpg.Connection | asyncpg.Pool,
    group: str,
    partitions: Iterable[TopicPartitionKey],
    for_update: bool = False,
) -> dict[TopicPartitionKey, int]:
    wanted = sorted(set(partitions))
    if not wanted:
        return {}
    rows = await connection.fetch(
        _SELECT + (" FOR UPDATE" if for_update else ""),
        group,
        [topic for topic, _ in wanted],
        [partition for _, partition in wanted],
    )
    return {(row["topic"], row["partition"]): row["next_offset"] for row in rows}


async def advance_positions(
    connection: asyncpg.Connection, group: str, next_offsets: Mapping[TopicPartitionKey, int]
) -> None:
    """Store the next offsets, never moving a stored one backwards."""
    ordered = sorted(next_offsets)
    if not ordered:
        return
    await connection.execute(
        "INSERT INTO consumer_positions (consumer_group, topic, partition, next_offset)"
        " SELECT $1, topic, partition, next_offset FROM unnest($2::text[], $3::int[], $4::bigint[])"
        " AS p(topic, partition, next_offset)"
        " ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET"
        " next_offset = GREATEST(consumer_positions.next_offset, excluded.next_offset), updated_at = now()",
        group,
        [tp[0] for tp in ordered],
        [tp[1] for tp in ordered],
        [next_offsets[tp] for tp in ordered],
    )


def next_offsets_after(positions: Iterable[tuple[str, int, int]]) -> dict[TopicPartitionKey, int]:
    """From (topic, partition, offset) of every message read, the offset to resume from per partition."""
    next_offsets: dict[TopicPartitionKey, int] = {}
    for topic, partition, offset in positions:
        next_offsets[(topic, partition)] = max(next_offsets.get((topic, partition), 0), offset + 1)
    return next_offsets


class PostgresPositions:
    """The positions as a unit of work's repository."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def lock(self, group: str, partitions: Iterable[TopicPartitionKey]) -> dict[TopicPartitionKey, int]:
        return await load_positions(self._connection, group, partitions, for_update=True)

    async def advance(self, group: str, next_offsets: Mapping[TopicPartitionKey, int]) -> None:
        await advance_positions(self._connection, group, next_offsets)
