"""Writing events to the `outbox` table in the same transaction as the rows they announce.

The relay (outbox_relay.py) publishes them in id order; a rolled-back transaction leaves no event behind and a
committed one is never lost.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from windhash_common.events import DeadLetter, PeriodCalculatedEvent
from windhash_common.topics import Topics


@dataclass(frozen=True)
class OutboxMessage:
    topic: str
    key: bytes | None
    payload: str  # JSON


def period_calculated_message(topics: Topics, event: PeriodCalculatedEvent) -> OutboxMessage:
    return OutboxMessage(topics.period_calculated, event.kafka_key, event.model_dump_json())


def dead_letter_message(topics: Topics, letter: DeadLetter, key: bytes | None) -> OutboxMessage:
    return OutboxMessage(topics.dead_letter, key, letter.model_dump_json())


async def add_to_outbox(connection: asyncpg.Connection, messages: Sequence[OutboxMessage]) -> None:
    if not messages:
        return
    # WITH ORDINALITY + ORDER BY: ids follow the order given, which is the order the relay publishes in.
    await connection.execute(
        "INSERT INTO outbox (topic, key, payload)"
        " SELECT topic, key, payload::jsonb FROM unnest($1::text[], $2::bytea[], $3::text[])"
        " WITH ORDINALITY AS message(topic, key, payload, position) ORDER BY position",
        [message.topic for message in messages],
        [message.key for message in messages],
        [message.payload for message in messages],
    )


async def announce_recalculated(
    connection: asyncpg.Connection, topics: Topics, periods: Sequence[asyncpg.Record]
) -> None:
    """Outbox a `calculated` event for each stored period (rows with settlement_date, settlement_period,
    content_hash and record_count) whose calculations were just completed outside a topic event."""
    now = datetime.now(UTC)
    await add_to_outbox(
        connection,
        [
            period_calculated_message(
                topics,
                PeriodCalculatedEvent(
                    settlement_date=row[0],
                    settlement_period=row[1],
                    content_hash=row["content_hash"],
                    record_count=row["record_count"],
                    status="calculated",
                    calculated_at=now,
                ),
            )
            for row in periods
        ],
    )
