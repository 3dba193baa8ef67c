"""SQL shared by every path that writes bitcoin calculations: the consumer, the pending-difficulty recompute
and the backfill of a new miner model.

Every writer of calculations takes CALCULATION_LOCK in its transaction: shared by the consumer and the pending
recompute (they lock the periods they touch row by row), exclusive for a model backfill, so a batch never
writes a period's calculations with a model list that a concurrent `miners add` is changing.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

import asyncpg

from windhash_calculator.calculation_rows import CALCULATION_COLUMNS, CalculationRow, RecordEnergy

CALCULATION_LOCK = 0x77686361
PeriodKey = tuple[date, int]


async def lock_calculations_shared(connection: asyncpg.Connection) -> None:
    await connection.execute("SELECT pg_advisory_xact_lock_shared($1)", CALCULATION_LOCK)


async def lock_calculations_exclusive(connection: asyncpg.Connection) -> None:
    await connection.execute("SELECT pg_advisory_xact_lock($1)", CALCULATION_LOCK)


def key_arrays(keys: Iterable[PeriodKey]) -> tuple[list[date], list[int]]:
    ordered = sorted(keys)
    return [key[0] for key in ordered], [key[1] for key in ordered]


async def record_energies(
    connection: asyncpg.Connection, keys: Iterable[PeriodKey]
) -> dict[PeriodKey, list[RecordEnergy]]:
    dates, periods = key_arrays(keys)
    rows = await connection.fetch(
        "SELECT r.settlement_date, r.settlement_period, r.bm_unit, r.acceptance_id, r.bid_offer_pair_id,"
        " r.volume_mwh FROM curtailment_records r"
        " JOIN unnest($1::date[], $2::smallint[]) AS k(d, p)"
        " ON r.settlement_date = k.d AND r.settlement_period = k.p"
        " ORDER BY 1, 2, 3, 4, 5",
        dates,
        periods,
    )
    found: dict[PeriodKey, list[RecordEnergy]] = defaultdict(list)
    for row in rows:
        found[(row[0], row[1])].append(RecordEnergy(row[2], row[3], row[4], row[5]))
    return found


async def copy_calculations(connection: asyncpg.Connection, rows: Sequence[CalculationRow]) -> None:
    if rows:
        await connection.copy_records_to_table(
            "bitcoin_calculations", records=rows, columns=CALCULATION_COLUMNS
        )


async def pending_period_count(connection: asyncpg.Connection) -> int:
    count = await connection.fetchval(
        "SELECT count(*) FROM settlement_periods WHERE status = 'pending_difficulty'"
    )
    return int(count)
