"""SQL shared by every path that writes bitcoin calculations: the consumer, the pending-difficulty recompute
and the backfill of a new miner model. Each of them takes `windhash_common.calculation_lock` first.
"""

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import date

import asyncpg

from windhash_calculator.calculation_rows import CALCULATION_COLUMNS, RecordEnergy

PeriodKey = tuple[date, int]


async def plan_for_actual_arguments(connection: asyncpg.Connection) -> None:
    """Plan this transaction's statements for their actual arguments and table sizes (custom plans).

    asyncpg prepares every statement, and after five executions PostgreSQL may keep one generic plan. One made
    while bitcoin_calculations was nearly empty (a new database, the first minutes of a backfill) deletes the
    period keys by rescanning the key list for every row of the table, and keeps doing so as the table
    grows: measured (bench/bench_calculator_writes.py), the backend then spent 5-8x the CPU of the whole
    batch. Planning costs well under a millisecond a statement, a few statements per batch.
    """
    await connection.execute("SET LOCAL plan_cache_mode = force_custom_plan")


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


async def copy_text(
    connection: asyncpg.Connection, table: str, columns: Sequence[str], lines: Iterable[str]
) -> None:
    """COPY rows given as lines of COPY's text format into `table`, in one statement."""
    data = "".join(lines).encode()
    if not data:
        return

    async def chunks() -> AsyncIterator[bytes]:
        # An async iterable rather than a file object: asyncpg reads files through a thread.
        yield data

    await connection.copy_to_table(table, source=chunks(), columns=list(columns), format="text")


async def copy_calculations(connection: asyncpg.Connection, lines: Iterable[str]) -> None:
    """COPY calculations given as COPY text (`calculation_rows.calculation_copy_text`)."""
    await copy_text(connection, "bitcoin_calculations", CALCULATION_COLUMNS, lines)


async def delete_calculations(connection: asyncpg.Connection, keys: Iterable[PeriodKey]) -> None:
    """Delete the calculations of these periods (a prefix of the primary key). Nothing cascades to
    bitcoin_calculations (migration 0600): whoever replaces or removes a period's records deletes its
    calculations in the same transaction."""
    dates, periods = key_arrays(keys)
    if dates:
        await connection.execute(
            "DELETE FROM bitcoin_calculations WHERE (settlement_date, settlement_period) IN"
            " (SELECT * FROM unnest($1::date[], $2::smallint[]))",
            dates,
            periods,
        )


async def pending_period_count(connection: asyncpg.Connection) -> int:
    count = await connection.fetchval(
        "SELECT count(*) FROM settlement_periods WHERE status = 'pending_difficulty'"
    )
    return int(count)
