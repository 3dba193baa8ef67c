"""Announcing periods recalculated outside a topic event (a pending period completed, a new miner model's
history): a `calculated` PeriodCalculatedEvent each, through the outbox, so the summaries follow."""

from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
from windhash_common.events import PeriodCalculatedEvent
from windhash_common.outbox import add_to_outbox, outbox_message
from windhash_common.topics import Topics


async def announce_recalculated(
    connection: asyncpg.Connection, topics: Topics, periods: Sequence[asyncpg.Record]
) -> None:
    """Outbox a `calculated` event for each stored period (rows with settlement_date, settlement_period,
    content_hash and record_count) whose calculations were just completed outside a topic event."""
    now = datetime.now(UTC)
    events = [
        PeriodCalculatedEvent(
            settlement_date=row[0],
            settlement_period=row[1],
            content_hash=row["content_hash"],
            record_count=row["record_count"],
            status="calculated",
            calculated_at=now,
        )
        for row in periods
    ]
    await add_to_outbox(
        connection, [outbox_message(topics.period_calculated, event, event.kafka_key) for event in events]
    )
