"""Comparing two runs of the system table by table: what "every table equals an undisturbed run" means.

Every column of every table, except those that record when or how often something happened (updated_at and
the like, fetched_at, attempts, outbox ids), Kafka topic prefixes, and Kafka offsets, which a crash
legitimately moves (a republished period is a new message). The outbox is compared as a set: delivery is at
least once. Used by the chaos test and the dependency-outage test.

Where a run's clock is in the rows themselves (the fleet's and the plans' tests drive live miners, so every
timestamp differs), `rows_of` compares what named queries select, row for row, instead.
"""

from typing import Any

import asyncpg

# Columns that say when or how often something happened, not what: they differ between any two runs.
TIMING_COLUMNS = {
    "updated_at",
    "added_at",
    "published_at",
    "marked_at",
    "first_seen",
    "last_seen",
    "applied_at",
    "failed_at",
}
RUN_COLUMNS = {
    "settlement_periods": {"fetched_at"},
    "ingestion_progress": {"attempts"},
    "consumer_positions": {"next_offset"},  # checked against the topics' end offsets instead
    "outbox": {"id", "created_at"},
}


async def comparable_selects(connection: asyncpg.Connection, prefix: str) -> dict[str, str]:
    columns = await connection.fetch(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c"
        " JOIN information_schema.tables t USING (table_schema, table_name)"
        " WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'"
        " ORDER BY c.table_name, c.ordinal_position"
    )
    chosen: dict[str, list[str]] = {}
    for table, column in columns:
        if column in TIMING_COLUMNS or column in RUN_COLUMNS.get(table, set()):
            continue
        expression = f'"{column}"'
        if column == "topic":
            expression = f"replace(\"topic\", '{prefix}.', '<prefix>.')"
        if table == "outbox" and column == "payload":
            expression = "payload - 'calculated_at' - 'failed_at'"
        chosen.setdefault(table, []).append(expression)
    return {
        table: f'SELECT {"DISTINCT " if table == "outbox" else ""}{", ".join(expressions)} FROM "{table}"'
        for table, expressions in chosen.items()
    }


async def table_checksums(dsn: str, prefix: str) -> dict[str, str]:
    """Per table: row count and an order-independent checksum of its rows (summed md5 halves, so a year of
    calculations is hashed without building one huge string)."""
    connection = await asyncpg.connect(dsn)
    try:
        sums = {}
        for table, select in (await comparable_selects(connection, prefix)).items():
            row = await connection.fetchrow(
                "SELECT count(*) AS n,"
                " coalesce(sum(('x' || substr(h, 1, 15))::bit(60)::bigint), 0) AS a,"
                " coalesce(sum(('x' || substr(h, 16, 15))::bit(60)::bigint), 0) AS b"
                f" FROM (SELECT md5(t::text) AS h FROM ({select}) t) hashed"
            )
            sums[table] = f"{row['n']} rows, {int(row['a']):x}{int(row['b']):x}"
        return sums
    finally:
        await connection.close()


async def differing_rows(runs: list[tuple[str, str]], table: str, limit: int = 5) -> str:
    """A few rows of `table` that one run (dsn, topic prefix) has and the other has not."""
    found = []
    for dsn, prefix in runs:
        connection = await asyncpg.connect(dsn)
        try:
            select = (await comparable_selects(connection, prefix))[table]
            found.append(
                {row[0] for row in await connection.fetch(f"SELECT t::text FROM ({select}) t LIMIT 200000")}
            )
        finally:
            await connection.close()
    only_first = sorted(found[0] - found[1])[:limit]
    only_second = sorted(found[1] - found[0])[:limit]
    return f"{table}: only in the first run {only_first}; only in the second {only_second}"


async def rows_of(dsn: str, queries: dict[str, str]) -> dict[str, list[tuple[Any, ...]]]:
    """Per named query: its rows, sorted (a multiset: the order rows were written in is no part of them;
    sorted by their text, so a NULL beside a value sorts too)."""
    connection = await asyncpg.connect(dsn)
    try:
        return {
            name: sorted((tuple(row) for row in await connection.fetch(query)), key=repr)
            for name, query in queries.items()
        }
    finally:
        await connection.close()
