"""The aggregator's handler: a batch of period-calculated events → every day they touch recomputed.

    event → `handle` → `windhash_common.summaries.recompute.recompute_days_and_rollups` → the SQL of
    `windhash_common.summaries.summary_tables`

Exactly-once effects without Kafka transactions: the consumer runtime runs this inside the transaction in
which it locked the group's stored positions (messages below them were applied already and never reach
here) and stores the next ones, and commits the Kafka offsets only after it. Applying an event means
recomputing its whole day from the facts, so duplicate events and events out of order are harmless too.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg
from windhash_common.consumer_runtime.consumer import Applied, apply_batch
from windhash_common.consumer_runtime.messages import (
    Batch,
    ConsumedMessage,
    Decoded,
    Positioned,
    decode_json_model,
)
from windhash_common.events import PeriodCalculatedEvent
from windhash_common.summaries.recompute import RecomputedScope

from windhash_aggregator.unit_of_work import AggregatorUnitOfWork, PostgresAggregatorUnitOfWork

SERVICE = "aggregator"
MAX_MESSAGE_BYTES = 1_048_576

PositionedEvent = Positioned[PeriodCalculatedEvent]


@dataclass(frozen=True)
class AppliedBatch:
    applied: tuple[PositionedEvent, ...]
    skipped: int
    scope: RecomputedScope
    committed_at: datetime | None = None
    """Set once the transaction committed (the runner's `on_applied` hook receives it so)."""


def affected_days(events: Iterable[PositionedEvent]) -> list[date]:
    return sorted({positioned.event.settlement_date for positioned in events})


async def aggregate_batch(batch: Batch[PeriodCalculatedEvent], uow: AggregatorUnitOfWork) -> AppliedBatch:
    """Recompute every day the batch's events touch, then their months and years."""
    scope = await uow.summaries.recompute_days_and_rollups(affected_days(batch.events))
    return AppliedBatch(batch.events, batch.skipped, scope)


def decode_period_calculated(message: ConsumedMessage) -> object:
    """The message's PeriodCalculatedEvent, or the `Rejection` saying why it has none."""
    return decode_json_model(PeriodCalculatedEvent, message.value, MAX_MESSAGE_BYTES)


async def apply_messages(
    connection: asyncpg.Connection, messages: Sequence[ConsumedMessage], group: str, dead_letter_topic: str
) -> Applied[AppliedBatch]:
    """One batch of messages through the aggregator's whole transaction (positions, handler, dead letters),
    on `connection`: what the consumer does with a batch, for tests."""
    ordered = sorted(messages, key=lambda message: (message.topic, message.partition, message.offset))
    decoded: list[Decoded[object]] = [
        Decoded(message, decode_period_calculated(message)) for message in ordered
    ]
    async with PostgresAggregatorUnitOfWork(connection) as uow:
        return await apply_batch(uow, decoded, aggregate_batch, SERVICE, group, dead_letter_topic)
