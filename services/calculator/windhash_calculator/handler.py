"""The calculator's handler: a batch of settlement-period snapshots → their facts and period-calculated
events.

    event → `decode_settlement_period` (windhash_common.curtailment_facts.event_checks; what cannot be stored
    is dead-lettered by the runtime) → `handle` → `write_snapshots` (curtailment_facts.write_path; a period
    whose derived figures cannot be stored is refused there and dead-lettered here) →
    `calculation_copy_text` (curtailment_facts.rows) → `windhash_common.bitcoin.PeriodBitcoin`

Runs inside the consumer runtime's transaction, which locked the positions and drops messages below them
before, and stores the next positions and the dead letters after (windhash_common.consumer_runtime).
"""

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import asyncpg
from windhash_common.bitcoin import Halving
from windhash_common.consumer_runtime.consumer import Applied, apply_batch
from windhash_common.consumer_runtime.messages import Batch, ConsumedMessage, Decoded
from windhash_common.curtailment_facts.event_checks import DEFAULT_MAX_MESSAGE_BYTES, decode_settlement_period
from windhash_common.curtailment_facts.write_path import (
    WriteOutcome,
    difficulty_dates,
    period_calculated_messages,
    write_snapshots,
)
from windhash_common.dead_letters import Rejection
from windhash_common.events import SettlementPeriodEvent
from windhash_common.topics import Topics

from windhash_calculator import metrics
from windhash_calculator.unit_of_work import (
    CalculatorUnitOfWork,
    KnownDifficulties,
    PostgresCalculatorUnitOfWork,
)

SERVICE = "calculator"


def _now() -> datetime:
    return datetime.now(UTC)


class CalculateBatch:
    """`handle(batch, uow)`, configured with the halving schedule, the topics and a crash hook (tests)."""

    def __init__(
        self,
        topics: Topics,
        halvings: Sequence[Halving],
        mid_batch: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._topics, self._halvings, self._mid_batch, self._clock = topics, halvings, mid_batch, clock

    async def __call__(self, batch: Batch[SettlementPeriodEvent], uow: CalculatorUnitOfWork) -> WriteOutcome:
        events = [positioned.event for positioned in batch.events]
        difficulties = await uow.difficulties.difficulties(difficulty_dates(events)) if events else {}
        started = time.perf_counter()
        outcome = await write_snapshots(uow.periods, events, difficulties, self._halvings)
        metrics.WRITE_SECONDS.observe(time.perf_counter() - started)
        refuse_unstorable(batch, outcome)
        if outcome.applied:
            outcome.pending_periods = await uow.periods.pending_count()
        if outcome.applied or outcome.refused:
            outcome.unstorable_periods = await uow.periods.unstorable_count()
        self._mid_batch()  # rows written, transaction not committed
        await uow.outbox.add(period_calculated_messages(self._topics, outcome, self._clock()))
        return outcome


def refuse_unstorable(batch: Batch[SettlementPeriodEvent], outcome: WriteOutcome) -> None:
    """Dead-letter the message of every snapshot the write path refused (its figures cannot be stored)."""
    for _, refusal in sorted(outcome.refused.items()):
        positioned = next(item for item in batch.events if item.event is refusal.event)
        batch.refuse(positioned, Rejection("unstorable", refusal.reason))


async def apply_messages(
    connection: asyncpg.Connection,
    messages: Sequence[ConsumedMessage],
    group: str,
    topics: Topics,
    difficulties: Mapping[date, Decimal],
    halvings: Sequence[Halving],
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> Applied[WriteOutcome]:
    """One batch of messages through the calculator's whole transaction (positions, handler, dead letters),
    on `connection`, with the difficulties known up front: what the consumer does with a batch, for tests and
    `bench/bench_calculator_writes.py`."""
    ordered = sorted(messages, key=lambda message: (message.topic, message.partition, message.offset))
    decoded: list[Decoded[object]] = [
        Decoded(message, decode_settlement_period(message.value, max_message_bytes)) for message in ordered
    ]
    async with PostgresCalculatorUnitOfWork(connection, KnownDifficulties(difficulties)) as uow:
        return await apply_batch(
            uow, decoded, CalculateBatch(topics, halvings), SERVICE, group, topics.dead_letter
        )
