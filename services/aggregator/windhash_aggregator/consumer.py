"""The Kafka side of the aggregator: read period-calculated events in batches, apply, then commit offsets.

aiokafka directly rather than a FastStream subscriber, because the consumer has to `seek()` each newly
assigned partition to the position stored in PostgreSQL (aiokafka's "storing offsets outside Kafka"
pattern), and has to commit Kafka offsets only after the database transaction.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

import asyncpg
import structlog
from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from aiokafka.errors import KafkaError
from windhash_common.db_retry import with_db_retries

from windhash_aggregator import metrics
from windhash_aggregator.message_decoding import dead_letter_for, decode_period_calculated, rejection_reason
from windhash_aggregator.period_batch import (
    AppliedBatch,
    PeriodBatch,
    PositionedEvent,
    apply_period_batch,
    load_positions,
    next_offsets_after,
)
from windhash_aggregator.settings import Settings
from windhash_aggregator.stale_days import drain_stale_days

log = structlog.get_logger("windhash_aggregator")

AppliedHook = Callable[[AppliedBatch], None]
T = TypeVar("T")


class SeekToStoredPositions(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, resume each partition from the position committed with the summaries in PostgreSQL."""

    def __init__(self, consumer: AIOKafkaConsumer, pool: asyncpg.Pool, group: str) -> None:
        self._consumer = consumer
        self._pool = pool
        self._group = group

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None  # offsets are committed after every batch, so nothing is pending here

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        async with self._pool.acquire() as connection:
            stored = await load_positions(
                connection, self._group, [(tp.topic, tp.partition) for tp in assigned]
            )
        for tp in assigned:
            if (tp.topic, tp.partition) in stored:
                self._consumer.seek(tp, stored[(tp.topic, tp.partition)])
        log.info("partitions assigned", partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in assigned))


async def _dead_letter(
    producer: AIOKafkaProducer, dead_letter_topic: str, record: ConsumerRecord, reason: str
) -> None:
    letter = dead_letter_for(record.value, reason, record.topic, record.partition, record.offset)
    await producer.send_and_wait(dead_letter_topic, letter.model_dump_json().encode(), key=record.key)
    metrics.DEAD_LETTERS.inc()
    log.warning(
        "dead-lettered message",
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        reason=letter.reason,
    )


async def _batch_from_records(
    records: list[ConsumerRecord], producer: AIOKafkaProducer, dead_letter_topic: str
) -> PeriodBatch:
    """Decode every record; malformed ones go to the dead-letter topic before their offset can be stored."""
    events: list[PositionedEvent] = []
    for record in records:
        try:
            event = decode_period_calculated(record.value)
        except ValueError as error:
            await _dead_letter(producer, dead_letter_topic, record, rejection_reason(error))
            continue
        events.append(PositionedEvent(record.topic, record.partition, record.offset, event))
    next_offsets = next_offsets_after((record.topic, record.partition, record.offset) for record in records)
    return PeriodBatch(tuple(events), next_offsets)


def _observe(applied: AppliedBatch, seconds: float) -> None:
    metrics.BATCH_SECONDS.observe(seconds)
    metrics.EVENTS_APPLIED.inc(len(applied.applied))
    metrics.EVENTS_SKIPPED.inc(len(applied.skipped))
    metrics.DAYS_RECOMPUTED.inc(len(applied.scope.days))
    for positioned in applied.applied:
        lag = (applied.committed_at - positioned.event.calculated_at).total_seconds()
        metrics.SUMMARY_FRESHNESS.observe(max(lag, 0.0))


async def _process(
    consumer: AIOKafkaConsumer,
    producer: AIOKafkaProducer,
    pool: asyncpg.Pool,
    settings: Settings,
    records: list[ConsumerRecord],
    on_applied: AppliedHook | None,
) -> None:
    started = asyncio.get_running_loop().time()
    batch = await _batch_from_records(records, producer, settings.topics.dead_letter)

    async def transaction() -> AppliedBatch:
        async with pool.acquire() as connection:
            return await apply_period_batch(connection, settings.aggregator_group, batch)

    # Retried whole (it is idempotent: positions are stored with the summaries); after the last attempt the
    # error stops the service with the batch unapplied and its offsets uncommitted, never skipped.
    applied = await _with_retries(transaction, "apply batch", settings)
    try:
        await consumer.commit(
            {
                TopicPartition(topic, partition): offset
                for (topic, partition), offset in batch.next_offsets.items()
            }
        )
    except KafkaError as error:
        # The positions are safe in PostgreSQL; whoever owns the partitions now resumes from there.
        log.warning("kafka offset commit failed after the database commit", error=str(error))
    _observe(applied, asyncio.get_running_loop().time() - started)
    log.debug(
        "batch applied",
        events=len(applied.applied),
        skipped=len(applied.skipped),
        days=[day.isoformat() for day in applied.scope.days],
    )
    if on_applied is not None:
        on_applied(applied)


async def _with_retries(operation: Callable[[], Awaitable[T]], what: str, settings: Settings) -> T:
    return await with_db_retries(
        operation,
        what,
        settings.aggregator_db_attempts,
        settings.aggregator_db_backoff_seconds,
        on_retry=metrics.DB_RETRIES.inc,
    )


async def _drain_stale(pool: asyncpg.Pool, settings: Settings) -> None:
    async def drain_once() -> tuple[date, ...]:
        async with pool.acquire() as connection:
            return (await drain_stale_days(connection)).days

    while days := await _with_retries(drain_once, "drain stale days", settings):
        metrics.DAYS_RECOMPUTED.inc(len(days))
        log.info("recomputed days whose price changed", days=len(days), first=days[0].isoformat())


async def consume_period_events(
    settings: Settings, pool: asyncpg.Pool, stop: asyncio.Event, on_applied: AppliedHook | None = None
) -> None:
    """Consume `Topics.period_calculated` until `stop` is set."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=settings.aggregator_group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    consumer.subscribe(
        [settings.topics.period_calculated],
        listener=SeekToStoredPositions(consumer, pool, settings.aggregator_group),
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    await consumer.start()
    log.info("aggregator consuming", topic=settings.topics.period_calculated, group=settings.aggregator_group)
    loop = asyncio.get_running_loop()
    drained_at = 0.0
    try:
        while not stop.is_set():
            fetched = await consumer.getmany(
                timeout_ms=settings.aggregator_poll_timeout_ms,
                max_records=settings.aggregator_batch_max_records,
            )
            records = [record for partition_records in fetched.values() for record in partition_records]
            if records:
                await _process(consumer, producer, pool, settings, records, on_applied)
            if loop.time() - drained_at >= settings.aggregator_stale_drain_seconds:
                await _drain_stale(pool, settings)
                drained_at = loop.time()
    finally:
        await consumer.stop()
        await producer.stop()
