"""Applying replayed events through the calculator's own write path (`curtailment_facts.write_path`), forced.

Forced: a replayed event is applied even when the stored row claims the same or a newer `fetched_at` (a
tampered or half-deleted period); its records and calculations are replaced as the calculator replaces them.
Everything else is the calculator's: the same rows, the same pending-difficulty rule, the same refusal of a
period whose figures cannot be stored (which keeps what is stored and is recorded unstorable), and
period-calculated events in the outbox for the aggregator. No consumer position is read or written: a replay
is not a consumer.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import asyncpg
from windhash_common.calculation_lock import lock_calculations_shared
from windhash_common.curtailment_facts.store import PostgresPeriodFacts, plan_for_actual_arguments
from windhash_common.curtailment_facts.write_path import (
    WriteOutcome,
    period_calculated_messages,
    write_snapshots,
)
from windhash_common.dependency_retries import POSTGRESQL, through_outages
from windhash_common.outbox import add_to_outbox

from windhash_reconciler.period_events import TopicEvent
from windhash_reconciler.settings import ReconcilerSettings


async def _force_apply(
    connection: asyncpg.Connection,
    events: Sequence[TopicEvent],
    settings: ReconcilerSettings,
    difficulties: Mapping[date, Decimal],
) -> WriteOutcome:
    async with connection.transaction():
        # The calculator's order: the shared calculation lock, then period rows in key order.
        await lock_calculations_shared(connection)
        await plan_for_actual_arguments(connection)
        outcome = await write_snapshots(
            PostgresPeriodFacts(connection),
            [event.event for event in events],
            difficulties,
            settings.halvings(),
            forced=True,
        )
        await add_to_outbox(
            connection, period_calculated_messages(settings.topics, outcome, datetime.now(UTC))
        )
    return outcome


async def force_apply(
    pool: asyncpg.Pool,
    events: Sequence[TopicEvent],
    settings: ReconcilerSettings,
    difficulties: Mapping[date, Decimal],
    attempts: int | None = None,
) -> WriteOutcome:
    """Apply these events (at most one per period) in one transaction, retried through an outage."""

    async def transaction() -> WriteOutcome:
        async with pool.acquire() as connection:
            return await _force_apply(connection, events, settings, difficulties)

    return await through_outages(transaction, "replay batch", [POSTGRESQL], attempts=attempts)
