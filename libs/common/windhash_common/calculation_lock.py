"""The advisory lock every writer of bitcoin calculations takes in its transaction.

Shared by the calculator's batches, the pending-difficulty recompute and reconcile's replay (they lock the
periods they touch row by row); exclusive for a miner model's backfill, so a batch never writes a period's
calculations with a model list that a concurrent `miners add` is changing, and for the summaries' repair of
the per-period totals, which recomputes a day's totals from the calculations and must not interleave with a
batch adding some (migration 0700).
"""

import asyncpg

CALCULATION_LOCK = 0x77686361


async def lock_calculations_shared(connection: asyncpg.Connection) -> None:
    await connection.execute("SELECT pg_advisory_xact_lock_shared($1)", CALCULATION_LOCK)


async def lock_calculations_exclusive(connection: asyncpg.Connection) -> None:
    await connection.execute("SELECT pg_advisory_xact_lock($1)", CALCULATION_LOCK)
