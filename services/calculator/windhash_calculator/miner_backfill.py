"""Adding a miner model and computing its history from the curtailment records already stored.

One transaction holds CALCULATION_LOCK exclusively, so no batch writes a period with the old model list while
the new model's rows are written: every calculated period gets the model's rows at the difficulty that period
was calculated with, and a period-calculated event (through the outbox) so the summaries follow. Running it
again for the same model rewrites the same rows.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from windhash_common.bitcoin import Halving
from windhash_common.calculation_lock import lock_calculations_exclusive
from windhash_common.curtailment_facts.rows import calculation_copy_text
from windhash_common.curtailment_facts.store import (
    PeriodKey,
    copy_calculations,
    plan_for_actual_arguments,
    record_energies,
)
from windhash_common.miner_models import MinerModel, find_miner_model, insert_miner_model
from windhash_common.topics import Topics

from windhash_calculator.pending_recalculated import announce_recalculated

_PERIODS_PER_CHUNK = 500


class MinerModelConflict(ValueError):
    """A model of that name exists with other specs: history would silently mix two machines."""


@dataclass(frozen=True)
class BackfillOutcome:
    created: bool
    periods: int
    calculations: int


async def add_miner_model(
    pool: asyncpg.Pool, model: MinerModel, topics: Topics, halvings: Sequence[Halving]
) -> BackfillOutcome:
    async with pool.acquire() as connection, connection.transaction():
        await lock_calculations_exclusive(connection)
        await plan_for_actual_arguments(connection)
        existing = await find_miner_model(connection, model.name)
        if existing is not None and not existing.same_specs(model):
            raise MinerModelConflict(f"{model.name} exists with other specs: {existing}")
        if existing is None:
            await insert_miner_model(connection, model)
        else:
            await connection.execute(
                "UPDATE miner_models SET active = $2 WHERE name = $1", model.name, model.active
            )
        await connection.execute("DELETE FROM bitcoin_calculations WHERE miner_model = $1", model.name)
        if not model.active:
            return BackfillOutcome(created=existing is None, periods=0, calculations=0)
        periods, calculations = await _backfill(connection, model, topics, halvings)
        return BackfillOutcome(created=existing is None, periods=periods, calculations=calculations)


async def _backfill(
    connection: asyncpg.Connection, model: MinerModel, topics: Topics, halvings: Sequence[Halving]
) -> tuple[int, int]:
    periods = await connection.fetch(
        "SELECT settlement_date, settlement_period, period_start_utc, difficulty, content_hash, record_count"
        " FROM settlement_periods WHERE status = 'calculated' AND record_count > 0 ORDER BY 1, 2"
    )
    written = 0
    for start in range(0, len(periods), _PERIODS_PER_CHUNK):
        chunk = periods[start : start + _PERIODS_PER_CHUNK]
        keys: list[PeriodKey] = [(row[0], row[1]) for row in chunk]
        records = await record_energies(connection, keys)
        calculation_lines: list[str] = []
        for row in chunk:
            key = (row[0], row[1])
            text, count = calculation_copy_text(
                *key, row["period_start_utc"], records.get(key, []), [model], row["difficulty"], halvings
            )
            calculation_lines.append(text)
            written += count
        await copy_calculations(connection, calculation_lines)
    await announce_recalculated(connection, topics, periods)
    return len(periods), written
