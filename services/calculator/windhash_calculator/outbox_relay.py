"""Publishing outbox rows to Kafka in id order, then marking them published.

At least once: a crash between the send and the mark republishes the rows, which the aggregator tolerates (it
recomputes a day from the facts). One relay at a time per database: the transaction-scoped advisory lock keeps
two calculator instances from interleaving and reordering the same rows.
"""

import asyncio
import contextlib

import asyncpg
import structlog
from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from windhash_common.db_retry import RETRIED_ERRORS, with_db_retries

from windhash_calculator.crash_points import CrashPoints
from windhash_calculator.metrics import DB_RETRIES, OUTBOX_BACKLOG, OUTBOX_PUBLISHED

log = structlog.get_logger(__name__)
RELAY_LOCK = 0x776F7574


async def relay_once(
    connection: asyncpg.Connection, broker: KafkaBroker, limit: int, crash: CrashPoints
) -> int:
    """Publish up to `limit` unpublished rows; returns how many were published."""
    async with connection.transaction():
        if not await connection.fetchval("SELECT pg_try_advisory_xact_lock($1)", RELAY_LOCK):
            return 0
        rows = await connection.fetch(
            "SELECT id, topic, key, payload::text FROM outbox WHERE published_at IS NULL"
            " ORDER BY id LIMIT $1",
            limit,
        )
        if not rows:
            return 0
        # Handed to the producer one after another in id order without waiting for each acknowledgement, so a
        # batch goes in few requests; the idempotent producer keeps that order within a partition even across
        # retries. Every acknowledgement is awaited before the rows are marked. (FastStream's publish metrics
        # therefore time the hand-over; a failed delivery raises here and the rows stay unpublished.)
        deliveries = [
            await broker.publish(row["payload"].encode(), row["topic"], key=row["key"], no_confirm=True)
            for row in rows
        ]
        await asyncio.gather(*deliveries)
        crash.reached("during_relay")
        await connection.execute(
            "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", [row["id"] for row in rows]
        )
    OUTBOX_PUBLISHED.inc(len(rows))
    return len(rows)


async def outbox_backlog(connection: asyncpg.Connection) -> int:
    return int(await connection.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"))


async def run_relay(
    pool: asyncpg.Pool,
    broker: KafkaBroker,
    stop: asyncio.Event,
    wake: asyncio.Event,
    interval_seconds: float,
    limit: int,
    crash: CrashPoints,
    attempts: int,
    backoff_seconds: float,
) -> None:
    """Until `stop`: publish whatever is in the outbox, then wait for `wake` (set after each batch) or a poll
    interval (other writers, such as `windhash difficulty load`, add rows too)."""
    while not stop.is_set():

        async def publish() -> int:
            async with pool.acquire() as connection:
                count = await relay_once(connection, broker, limit, crash)
                OUTBOX_BACKLOG.set(await outbox_backlog(connection))
                return count

        published = await with_db_retries(
            publish,
            "outbox relay",
            attempts,
            backoff_seconds,
            errors=(*RETRIED_ERRORS, KafkaError),
            on_retry=DB_RETRIES.inc,
        )
        if published:
            log.debug("outbox rows published", count=published)
            continue
        wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=interval_seconds)
