"""Days marked stale by something other than a period event (a BTC price written after the summaries were;
see migration 0300): the aggregator drains them between batches with the same recompute."""

import asyncpg

from windhash_common.summaries.recompute import RecomputedScope, recompute_days_and_rollups


async def drain_stale_days(connection: asyncpg.Connection, limit: int = 200) -> RecomputedScope:
    """Recompute up to `limit` stale days (and their months and years) and unmark them, in one transaction
    (a savepoint of the caller's, if it has one). SKIP LOCKED lets several aggregator instances drain at once
    without waiting on each other."""
    async with connection.transaction():
        days = [
            row["settlement_date"]
            for row in await connection.fetch(
                "SELECT settlement_date FROM summary_stale_days ORDER BY settlement_date"
                " LIMIT $1 FOR UPDATE SKIP LOCKED",
                limit,
            )
        ]
        scope = await recompute_days_and_rollups(connection, days)
        if days:
            await connection.execute(
                "DELETE FROM summary_stale_days WHERE settlement_date = ANY($1::date[])", days
            )
    return scope
