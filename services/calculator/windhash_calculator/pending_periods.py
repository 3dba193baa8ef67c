"""Completing periods held `pending_difficulty` once their day's difficulty is known.

The same code path serves the calculator (a periodic sweep) and `windhash difficulty load|sync` (right after
new difficulty is written), so a pending period is completed exactly the way a fresh event would have been:
its stored records × the active miner models, at the stored day's difficulty, one transaction per chunk of
days, each with its period-calculated events in the outbox. A period whose BTC at that difficulty cannot be
stored (`storable_figures`) stays pending and is recorded in `unstorable_periods` with the reason.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import asyncpg
from windhash_common.bitcoin import Halving
from windhash_common.calculation_lock import lock_calculations_shared
from windhash_common.curtailment_facts.rows import RecordEnergy, calculation_copy_text, difficulty_date
from windhash_common.curtailment_facts.storable_figures import bitcoin_problem
from windhash_common.curtailment_facts.store import (
    PeriodKey,
    copy_calculations,
    delete_calculations,
    plan_for_actual_arguments,
    record_energies,
)
from windhash_common.curtailment_facts.unstorable_periods import note_unstorable, unstorable_count
from windhash_common.difficulty_store import DifficultyLookup
from windhash_common.miner_models import MinerModel, active_miner_models
from windhash_common.topics import Topics

from windhash_calculator.pending_recalculated import announce_recalculated

_DAYS_PER_TRANSACTION = 31


@dataclass
class PendingOutcome:
    completed: list[PeriodKey] = field(default_factory=list)
    calculations: int = 0
    still_pending: int = 0
    refused: dict[PeriodKey, str] = field(default_factory=dict)
    """Periods left pending because their figures cannot be stored, with the reason."""
    unstorable: int = 0


async def pending_difficulty_dates(connection: asyncpg.Connection) -> list[date]:
    rows = await connection.fetch(
        "SELECT DISTINCT (period_start_utc AT TIME ZONE 'UTC')::date FROM settlement_periods"
        " WHERE status = 'pending_difficulty' ORDER BY 1"
    )
    return [row[0] for row in rows]


async def complete_pending_periods(
    pool: asyncpg.Pool, difficulties: DifficultyLookup, topics: Topics, halvings: Sequence[Halving]
) -> PendingOutcome:
    outcome = PendingOutcome()
    async with pool.acquire() as connection:
        waiting = await pending_difficulty_dates(connection)
        known = await difficulties.difficulties(waiting)
        days = sorted(known)
        for start in range(0, len(days), _DAYS_PER_TRANSACTION):
            chunk = {day: known[day] for day in days[start : start + _DAYS_PER_TRANSACTION]}
            await _complete_days(connection, chunk, topics, halvings, outcome)
        outcome.still_pending = int(
            await connection.fetchval(
                "SELECT count(*) FROM settlement_periods WHERE status = 'pending_difficulty'"
            )
        )
        outcome.unstorable = await unstorable_count(connection)
    return outcome


def _unstorable(
    periods: Sequence[asyncpg.Record],
    records: Mapping[PeriodKey, Sequence[RecordEnergy]],
    models: Sequence[MinerModel],
    known: Mapping[date, Decimal],
    halvings: Sequence[Halving],
) -> dict[PeriodKey, tuple[str, str]]:
    """The periods whose BTC at their day's difficulty cannot be stored: key → (content hash, reason)."""
    refused = {}
    for row in periods:
        key, start = (row[0], row[1]), row["period_start_utc"]
        problem = bitcoin_problem(
            records.get(key, []), models, known[difficulty_date(start)], start, halvings
        )
        if problem is not None:
            refused[key] = (row["content_hash"], problem)
    return refused


async def _complete_days(
    connection: asyncpg.Connection,
    known: Mapping[date, Decimal],
    topics: Topics,
    halvings: Sequence[Halving],
    outcome: PendingOutcome,
) -> None:
    async with connection.transaction():
        await lock_calculations_shared(connection)
        await plan_for_actual_arguments(connection)
        # Re-read under lock: a new snapshot may have completed (or replaced) a period since we looked.
        periods = await connection.fetch(
            "SELECT settlement_date, settlement_period, period_start_utc, content_hash, record_count"
            " FROM settlement_periods WHERE status = 'pending_difficulty'"
            " AND (period_start_utc AT TIME ZONE 'UTC')::date = ANY($1::date[])"
            " ORDER BY 1, 2 FOR UPDATE",
            list(known),
        )
        records = await record_energies(connection, [(row[0], row[1]) for row in periods])
        models = await active_miner_models(connection)
        refused = _unstorable(periods, records, models, known, halvings)
        await note_unstorable(connection, refused)
        outcome.refused.update({key: reason for key, (_, reason) in refused.items()})
        periods = [row for row in periods if (row[0], row[1]) not in refused]
        if not periods:
            return
        keys: list[PeriodKey] = [(row[0], row[1]) for row in periods]
        calculation_lines: list[str] = []
        calculations = 0
        period_difficulties = []
        for row in periods:
            difficulty = known[difficulty_date(row["period_start_utc"])]
            period_difficulties.append(difficulty)
            key = (row[0], row[1])
            text, count = calculation_copy_text(
                *key, row["period_start_utc"], records.get(key, []), models, difficulty, halvings
            )
            calculation_lines.append(text)
            calculations += count
        await delete_calculations(connection, keys)
        await copy_calculations(connection, calculation_lines)
        await connection.execute(
            "UPDATE settlement_periods s"
            " SET status = 'calculated', difficulty = k.difficulty, updated_at = now()"
            " FROM unnest($1::date[], $2::smallint[], $3::numeric[]) AS k(d, p, difficulty)"
            " WHERE s.settlement_date = k.d AND s.settlement_period = k.p",
            [key[0] for key in keys],
            [key[1] for key in keys],
            period_difficulties,
        )
        await note_unstorable(connection, {}, keys)
        await announce_recalculated(connection, topics, periods)
    outcome.completed += keys
    outcome.calculations += calculations
