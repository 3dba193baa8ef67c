"""The SQL of the settlement-period facts (periods, curtailment records, bitcoin calculations), shared by
every path that writes them: the calculator's batches, its pending-difficulty recompute, a new miner model's
history, and reconciliation's replay. Each of them takes `windhash_common.calculation_lock` first.
`PostgresPeriodFacts` is the repository `write_path` works through.
"""

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

import asyncpg

from windhash_common.curtailment_facts.rows import (
    CALCULATION_COLUMNS,
    CURTAILMENT_COLUMNS,
    CurtailmentRow,
    RecordEnergy,
    curtailment_copy_text,
)
from windhash_common.curtailment_facts.unstorable_periods import note_unstorable, unstorable_count
from windhash_common.curtailment_facts.write_path import Refusal
from windhash_common.events import SettlementPeriodEvent
from windhash_common.miner_models import MinerModel, active_miner_models

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
    """COPY calculations given as COPY text (`rows.calculation_copy_text`)."""
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


async def lock_snapshots(
    connection: asyncpg.Connection, keys: Iterable[PeriodKey]
) -> dict[PeriodKey, datetime]:
    """The stored snapshots' `fetched_at` of these periods, their rows locked in key order."""
    dates, periods = key_arrays(keys)
    if not dates:
        return {}
    rows = await connection.fetch(
        "SELECT s.settlement_date, s.settlement_period, s.fetched_at FROM settlement_periods s"
        " JOIN unnest($1::date[], $2::smallint[]) AS k(d, p)"
        " ON s.settlement_date = k.d AND s.settlement_period = k.p"
        " ORDER BY 1, 2 FOR UPDATE OF s",
        dates,
        periods,
    )
    return {(row[0], row[1]): row[2] for row in rows}


async def upsert_periods(
    connection: asyncpg.Connection,
    events: Sequence[SettlementPeriodEvent],
    difficulty: Mapping[PeriodKey, Decimal | None],
) -> None:
    keys = [(event.settlement_date, event.settlement_period) for event in events]
    await connection.execute(
        "INSERT INTO settlement_periods (settlement_date, settlement_period, period_start_utc, content_hash,"
        " fetched_at, record_count, status, difficulty, synthetic)"
        " SELECT * FROM unnest($1::date[], $2::smallint[], $3::timestamptz[], $4::text[], $5::timestamptz[],"
        " $6::int[], $7::text[], $8::numeric[], $9::bool[])"
        " ON CONFLICT (settlement_date, settlement_period) DO UPDATE SET"
        " period_start_utc = excluded.period_start_utc, content_hash = excluded.content_hash,"
        " fetched_at = excluded.fetched_at, record_count = excluded.record_count, status = excluded.status,"
        " difficulty = excluded.difficulty, synthetic = excluded.synthetic, updated_at = now()",
        [key[0] for key in keys],
        [key[1] for key in keys],
        [event.period_start_utc for event in events],
        [event.content_hash for event in events],
        [event.fetched_at for event in events],
        [len(event.records) for event in events],
        ["pending_difficulty" if difficulty[key] is None else "calculated" for key in keys],
        [difficulty[key] for key in keys],
        [event.synthetic for event in events],
    )


async def replace_records(
    connection: asyncpg.Connection, keys: Sequence[PeriodKey], rows: Sequence[CurtailmentRow]
) -> None:
    """Replace these periods' records with `rows`, deleting their calculations too (nothing cascades since
    migration 0600). Each record carries the lead party the BM unit registry names for its unit now."""
    await delete_calculations(connection, keys)
    dates, periods = key_arrays(keys)
    await connection.execute(
        "DELETE FROM curtailment_records WHERE (settlement_date, settlement_period) IN"
        " (SELECT * FROM unnest($1::date[], $2::smallint[]))",
        dates,
        periods,
    )
    if not rows:
        return
    parties = await connection.fetch(
        "SELECT elexon_bm_unit, lead_party_name FROM wind_bm_units WHERE elexon_bm_unit = ANY($1::text[])",
        sorted({row[2] for row in rows}),
    )
    text = curtailment_copy_text(rows, {party[0]: party[1] for party in parties})
    await copy_text(connection, "curtailment_records", (*CURTAILMENT_COLUMNS, "lead_party_name"), [text])


class PostgresPeriodFacts:
    """`write_path.PeriodFacts` on a connection that is in a transaction."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def lock_snapshots(self, keys: Iterable[PeriodKey]) -> dict[PeriodKey, datetime]:
        return await lock_snapshots(self._connection, keys)

    async def active_models(self) -> list[MinerModel]:
        return await active_miner_models(self._connection)

    async def upsert_periods(
        self, events: Sequence[SettlementPeriodEvent], difficulty: Mapping[PeriodKey, Decimal | None]
    ) -> None:
        await upsert_periods(self._connection, events, difficulty)

    async def replace_records(self, keys: Sequence[PeriodKey], rows: Sequence[CurtailmentRow]) -> None:
        await replace_records(self._connection, keys, rows)

    async def add_calculations(self, copy_texts: Sequence[str]) -> None:
        await copy_calculations(self._connection, copy_texts)

    async def pending_count(self) -> int:
        return await pending_period_count(self._connection)

    async def note_refusals(self, refused: Mapping[PeriodKey, Refusal], written: Sequence[PeriodKey]) -> None:
        hashes = {key: (refusal.event.content_hash, refusal.reason) for key, refusal in refused.items()}
        await note_unstorable(self._connection, hashes, written)

    async def unstorable_count(self) -> int:
        return await unstorable_count(self._connection)
