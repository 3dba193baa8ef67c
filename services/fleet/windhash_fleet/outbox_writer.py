"""Adding an event to the `outbox` table inside the caller's transaction.

A small local writer until the shared outbox writer and relay move into libs/common (in progress elsewhere);
it writes the same rows (topic, key, JSON payload) the calculator's relay publishes in id order.
"""

import asyncpg


async def add_to_outbox(connection: asyncpg.Connection, topic: str, key: bytes, payload: str) -> None:
    await connection.execute(
        "INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3::jsonb)", topic, key, payload
    )
