"""Publishing outbox rows to Kafka in id order, then marking them published (or failed, with the reason).

A row Kafka refuses for good (a message over its size limit, a topic it will not accept) is marked `failed`
with the reason and counted (`windhash_outbox_failed_total`), so the rows after it still go: bad input never
stops the relay. An outage (no broker, a timeout) is not a refusal: the batch is retried whole.

At least once: a crash between the send and the mark republishes the rows, which every consumer of them
tolerates (the aggregator recomputes a day from the facts; dead letters are records, not commands). One relay
at a time per database: the transaction-scoped advisory lock keeps two instances (of one service or of
several) from interleaving and reordering the same rows; whichever holds it publishes everyone's rows.
"""

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import structlog
from faststream.kafka import KafkaBroker
from prometheus_client import Counter, Gauge

from windhash_common.dependency_retries import KAFKA, POSTGRESQL, is_kafka_outage, through_outages
from windhash_common.readiness import Readiness

log = structlog.get_logger(__name__)
RELAY_LOCK = 0x776F7574

OUTBOX_BACKLOG = Gauge("windhash_outbox_backlog", "Outbox rows not yet published", ["service"])
OUTBOX_PUBLISHED = Counter(
    "windhash_outbox_published_total", "Outbox rows published to Kafka by this service's relay", ["service"]
)
OUTBOX_FAILED = Counter(
    "windhash_outbox_failed_total",
    "Outbox rows Kafka refused for good, set aside as failed with the reason, by this service's relay",
    ["service"],
)


def _nothing() -> None:
    return None


async def relay_once(
    connection: asyncpg.Connection,
    broker: KafkaBroker,
    limit: int,
    on_sent: Callable[[], None] = _nothing,
    service: str = "relay",
) -> int:
    """Publish up to `limit` pending rows; returns how many were settled (published or failed). `on_sent`
    runs after Kafka acknowledged them and before they are marked (the calculator's crash point
    `during_relay`)."""
    async with connection.transaction():
        if not await connection.fetchval("SELECT pg_try_advisory_xact_lock($1)", RELAY_LOCK):
            return 0
        rows = await connection.fetch(
            "SELECT id, topic, key, payload::text FROM outbox WHERE status = 'pending' ORDER BY id LIMIT $1",
            limit,
        )
        if not rows:
            return 0
        # Handed to the producer one after another in id order without waiting for each acknowledgement, so a
        # batch goes in few requests; the idempotent producer keeps that order within a partition even across
        # retries. Every acknowledgement is awaited before the rows are marked. (FastStream's publish metrics
        # therefore time the hand-over.)
        outcomes = await asyncio.gather(*(_deliver(broker, row) for row in rows), return_exceptions=True)
        outages = [outcome for outcome in outcomes if isinstance(outcome, BaseException) and _outage(outcome)]
        if outages:
            raise outages[0]  # nothing marked: the whole batch is retried once Kafka is back
        on_sent()
        refused = {
            row["id"]: repr(outcome)[:1000]
            for row, outcome in zip(rows, outcomes, strict=True)
            if isinstance(outcome, BaseException)
        }
        await connection.execute(
            "UPDATE outbox SET status = 'published', published_at = now() WHERE id = ANY($1::bigint[])",
            [row["id"] for row in rows if row["id"] not in refused],
        )
        if refused:
            await connection.execute(
                "UPDATE outbox SET status = 'failed', failed_at = now(), failure_reason = reason"
                " FROM unnest($1::bigint[], $2::text[]) AS refusal(id, reason) WHERE outbox.id = refusal.id",
                list(refused),
                list(refused.values()),
            )
            OUTBOX_FAILED.labels(service=service).inc(len(refused))
            log.error("outbox rows refused by Kafka, set aside as failed", ids=sorted(refused))
    OUTBOX_PUBLISHED.labels(service=service).inc(len(rows) - len(refused))
    return len(rows)


async def _deliver(broker: KafkaBroker, row: asyncpg.Record) -> None:
    """Hand one row to the producer and wait for Kafka's acknowledgement; raises what Kafka answered."""
    delivery = await broker.publish(row["payload"].encode(), row["topic"], key=row["key"], no_confirm=True)
    await delivery


def _outage(error: BaseException) -> bool:
    return is_kafka_outage(error) or isinstance(error, (OSError, asyncio.CancelledError))


async def outbox_backlog(connection: asyncpg.Connection) -> int:
    return int(await connection.fetchval("SELECT count(*) FROM outbox WHERE status = 'pending'"))


async def run_relay(
    service: str,
    pool: asyncpg.Pool,
    broker: KafkaBroker,
    stop: asyncio.Event,
    wake: asyncio.Event,
    interval_seconds: float,
    limit: int,
    readiness: Readiness | None = None,
    on_sent: Callable[[], None] = _nothing,
) -> None:
    """Until `stop`: publish whatever is in the outbox, then wait for `wake` (set by the service after it
    added rows) or a poll interval (other writers, such as `windhash difficulty load`, add rows too).
    Outages of PostgreSQL or Kafka are waited out (`dependency_retries`)."""
    OUTBOX_PUBLISHED.labels(service=service)  # exported at 0 from the start
    OUTBOX_FAILED.labels(service=service)
    while not stop.is_set():

        async def publish() -> int:
            async with pool.acquire() as connection:
                count = await relay_once(connection, broker, limit, on_sent, service)
                OUTBOX_BACKLOG.labels(service=service).set(await outbox_backlog(connection))
                return count

        settled = await through_outages(publish, "outbox relay", [POSTGRESQL, KAFKA], readiness=readiness)
        if settled:
            log.debug("outbox rows settled", count=settled)
            continue
        wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=interval_seconds)


@dataclass(frozen=True)
class OutboxRelay:
    """A service's relay as its wiring names it once: whose rows (`service`, for the metrics), the pool and
    publisher, the event that wakes it, its poll interval and batch, and the calculator's `on_sent` hook."""

    service: str
    pool: asyncpg.Pool
    broker: KafkaBroker
    wake: asyncio.Event
    interval_seconds: float
    limit: int
    on_sent: Callable[[], None] = _nothing

    async def run(self, stop: asyncio.Event, readiness: Readiness | None = None) -> None:
        await run_relay(
            self.service,
            self.pool,
            self.broker,
            stop,
            self.wake,
            self.interval_seconds,
            self.limit,
            readiness,
            self.on_sent,
        )
