"""The SQL of `unstorable_periods` (migration 0950): the periods the write path refused because their derived
figures cannot be stored (`storable_figures`), each with its reason, until a later write of the period
succeeds. Written by the calculator's write path and pending sweep; read by status, `windhash ingest` and the
metrics, which count these periods as failed."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

PeriodKey = tuple[date, int]


@dataclass(frozen=True)
class UnstorablePeriod:
    settlement_date: date
    settlement_period: int
    reason: str
    refused_at: datetime


async def note_unstorable(
    connection: asyncpg.Connection,
    refused: Mapping[PeriodKey, tuple[str, str]],
    written: Sequence[PeriodKey] = (),
) -> None:
    """Record the refused periods (key → content hash, reason), a newer refusal replacing the older, and
    delete the records of the periods just written."""
    if written:
        await connection.execute(
            "DELETE FROM unstorable_periods WHERE (settlement_date, settlement_period) IN"
            " (SELECT * FROM unnest($1::date[], $2::smallint[]))",
            [key[0] for key in written],
            [key[1] for key in written],
        )
    if refused:
        await connection.executemany(
            "INSERT INTO unstorable_periods (settlement_date, settlement_period, content_hash, reason)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (settlement_date, settlement_period) DO UPDATE SET"
            " content_hash = excluded.content_hash, reason = excluded.reason, refused_at = now()",
            [(key[0], key[1], *refused[key]) for key in sorted(refused)],
        )


async def unstorable_count(connection: asyncpg.Connection | asyncpg.Pool) -> int:
    return int(await connection.fetchval("SELECT count(*) FROM unstorable_periods"))


async def unstorable_between(
    connection: asyncpg.Connection | asyncpg.Pool, first: date, last: date
) -> dict[PeriodKey, UnstorablePeriod]:
    """The refused periods of settlement dates `first..last`."""
    rows = await connection.fetch(
        "SELECT settlement_date, settlement_period, reason, refused_at FROM unstorable_periods"
        " WHERE settlement_date BETWEEN $1 AND $2 ORDER BY 1, 2",
        first,
        last,
    )
    return {(row[0], row[1]): UnstorablePeriod(row[0], row[1], row[2], row[3]) for row in rows}


async def latest_unstorable(connection: asyncpg.Connection, limit: int) -> list[UnstorablePeriod]:
    """The most recently refused periods, newest first."""
    rows = await connection.fetch(
        "SELECT settlement_date, settlement_period, reason, refused_at FROM unstorable_periods"
        " ORDER BY refused_at DESC, settlement_date DESC, settlement_period DESC LIMIT $1",
        limit,
    )
    return [UnstorablePeriod(row[0], row[1], row[2], row[3]) for row in rows]
