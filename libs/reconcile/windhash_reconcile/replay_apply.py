"""Applying replayed events through the calculator's own write path (`period_writer.apply_batch`), forced.

Forced: the periods' stored snapshots are deleted first, with their records and calculations (explicitly:
nothing cascades since migration 0600), in the same transaction, so a replayed event is applied even when the
stored row claims the same or a newer `fetched_at` (a tampered or half-deleted period). Everything else is
the calculator's batch: the same rows, the same pending-difficulty rule, period-calculated events in the
outbox for the aggregator. The replay runs under a consumer group of its own whose stored positions are
removed again before commit, so it leaves no trace in consumer_positions and never moves the calculator's.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

import asyncpg
from windhash_calculator.crash_points import CrashPoints
from windhash_calculator.period_writer import BatchOutcome, apply_batch
from windhash_calculator.stored_periods import (
    delete_calculations,
    key_arrays,
    plan_for_actual_arguments,
)
from windhash_common.calculation_lock import lock_calculations_shared
from windhash_common.db_retry import with_db_retries

from windhash_reconcile.period_events import TopicEvent
from windhash_reconcile.settings import ReconcileSettings


def replay_group(settings: ReconcileSettings) -> str:
    return f"{settings.reconcile_replay_group}-{uuid.uuid4().hex[:12]}"


async def _force_apply(
    connection: asyncpg.Connection,
    events: Sequence[TopicEvent],
    group: str,
    settings: ReconcileSettings,
    difficulties: Mapping[date, Decimal],
) -> BatchOutcome:
    async with connection.transaction():
        # The calculator's order: the shared calculation lock, then period rows in key order.
        await lock_calculations_shared(connection)
        await plan_for_actual_arguments(connection)
        dates, periods = key_arrays(event.key for event in events)
        await connection.execute(
            "SELECT 1 FROM settlement_periods s JOIN unnest($1::date[], $2::smallint[]) AS k(d, p)"
            " ON s.settlement_date = k.d AND s.settlement_period = k.p ORDER BY k.d, k.p FOR UPDATE OF s",
            dates,
            periods,
        )
        await delete_calculations(connection, (event.key for event in events))
        for table in ("curtailment_records", "settlement_periods"):
            await connection.execute(
                f"DELETE FROM {table} WHERE (settlement_date, settlement_period) IN"
                " (SELECT * FROM unnest($1::date[], $2::smallint[]))",
                dates,
                periods,
            )
        outcome = await apply_batch(
            connection,
            [event.decoded() for event in events],
            group,
            settings.topics,
            difficulties,
            settings.halvings(),
            CrashPoints(None),
        )
        await connection.execute("DELETE FROM consumer_positions WHERE consumer_group = $1", group)
    return outcome


async def force_apply(
    pool: asyncpg.Pool,
    events: Sequence[TopicEvent],
    settings: ReconcileSettings,
    difficulties: Mapping[date, Decimal],
) -> BatchOutcome:
    """Apply these events (at most one per period) in one transaction, retried like a calculator batch."""
    group = replay_group(settings)

    async def transaction() -> BatchOutcome:
        async with pool.acquire() as connection:
            return await _force_apply(connection, events, group, settings, difficulties)

    return await with_db_retries(
        transaction, "replay batch", settings.calculator_db_attempts, settings.calculator_db_backoff_seconds
    )
