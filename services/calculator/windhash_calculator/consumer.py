"""The settlement-period consumer: fetch a batch, apply it in one PostgreSQL transaction, then commit offsets.

Positions live in PostgreSQL (consumer_positions), written with the effects they cover; on every partition
assignment the consumer seeks to them (aiokafka's "storing offsets outside Kafka"). The Kafka commit after
the transaction is a courtesy for tools that read group offsets: losing it to a crash costs a replay that the
stored positions turn into a no-op.
"""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from windhash_common.db_retry import with_db_retries
from windhash_common.difficulty_store import DifficultyLookup

from windhash_calculator import metrics
from windhash_calculator.batch_assembly import KeyOrderedBuffer
from windhash_calculator.crash_points import CrashPoints
from windhash_calculator.message_validation import ConsumedMessage
from windhash_calculator.period_writer import BatchOutcome, apply_batch, decode_batch, difficulty_dates
from windhash_calculator.settings import CalculatorSettings
from windhash_calculator.stored_periods import pending_period_count

log = structlog.get_logger(__name__)


class StoredPositionSeeker(ConsumerRebalanceListener):  # type: ignore[misc]
    """Seeks each newly assigned partition to the position stored with the effects of the last batch."""

    def __init__(
        self, consumer: AIOKafkaConsumer, pool: asyncpg.Pool, group: str, buffer: KeyOrderedBuffer
    ) -> None:
        self._consumer = consumer
        self._pool = pool
        self._group = group
        self._buffer = buffer

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        # Nothing to flush: a batch is committed to PostgreSQL before the next poll can trigger a rebalance.
        # Fetched records not applied yet are the next owner's to read, from the stored position.
        self._buffer.drop(revoked)

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        if not assigned:
            return
        rows = await self._pool.fetch(
            "SELECT topic, partition, next_offset FROM consumer_positions WHERE consumer_group = $1"
            " AND (topic, partition) IN (SELECT * FROM unnest($2::text[], $3::int[]))",
            self._group,
            [tp.topic for tp in assigned],
            [tp.partition for tp in assigned],
        )
        stored = {(row["topic"], row["partition"]): row["next_offset"] for row in rows}
        for tp in assigned:
            if (tp.topic, tp.partition) in stored:
                self._consumer.seek(tp, stored[(tp.topic, tp.partition)])
        log.info(
            "partitions assigned", partitions=sorted(tp.partition for tp in assigned), stored=len(stored)
        )


@dataclass(frozen=True)
class ConsumerContext:
    consumer: AIOKafkaConsumer
    pool: asyncpg.Pool
    difficulties: DifficultyLookup
    settings: CalculatorSettings
    crash: CrashPoints
    buffer: KeyOrderedBuffer


async def consume(context: ConsumerContext, stop: asyncio.Event, relay_wake: asyncio.Event) -> None:
    settings = context.settings
    batch_size = settings.calculator_batch_messages
    while not stop.is_set():
        # Keep about two batches fetched, so each batch is drawn in key order across every partition; wait
        # for Kafka only when nothing is left to apply.
        buffered = len(context.buffer)
        if buffered < 2 * batch_size:
            wait_ms = 0 if buffered else settings.calculator_batch_wait_ms
            context.buffer.add(await context.consumer.getmany(timeout_ms=wait_ms))
        await _record_lag(context.consumer, context.buffer)
        fetched = context.buffer.take(batch_size)
        if not fetched:
            continue
        messages = [
            ConsumedMessage(tp.topic, tp.partition, record.offset, record.key, record.value)
            for tp, records in fetched.items()
            for record in records
        ]
        outcome = await _apply(context, messages)
        context.crash.reached("after_db_commit")
        await _commit(context.consumer, {tp: records[-1].offset + 1 for tp, records in fetched.items()})
        _record(outcome)
        if outcome.applied or outcome.dead_letters:
            relay_wake.set()


async def _apply(context: ConsumerContext, messages: list[ConsumedMessage]) -> BatchOutcome:
    settings = context.settings
    decoded = decode_batch(messages, settings.calculator_max_message_bytes)
    difficulties = await context.difficulties.difficulties(difficulty_dates(decoded))

    async def transaction() -> BatchOutcome:
        async with context.pool.acquire() as connection:
            started = time.perf_counter()
            outcome = await apply_batch(
                connection,
                decoded,
                settings.calculator_group,
                settings.topics,
                difficulties,
                settings.halvings(),
                context.crash,
            )
            metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
            if outcome.applied:
                metrics.PERIODS_PENDING.set(await pending_period_count(connection))
            return outcome

    return await with_db_retries(
        transaction,
        "apply batch",
        settings.calculator_db_attempts,
        settings.calculator_db_backoff_seconds,
        on_retry=metrics.DB_RETRIES.inc,
    )


async def _commit(consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
    try:
        await consumer.commit(offsets)
    except (CommitFailedError, KafkaError) as error:
        # The stored positions already cover this batch; the next owner of the partition seeks to them.
        log.warning("kafka offset commit failed after the database commit", error=repr(error))


def _record(outcome: BatchOutcome) -> None:
    metrics.RECORDS_WRITTEN.inc(outcome.records)
    metrics.CALCULATIONS_WRITTEN.inc(outcome.calculations)
    metrics.SNAPSHOTS_IGNORED.inc(outcome.ignored_older)
    metrics.MESSAGES_SKIPPED.inc(outcome.skipped)
    for status in outcome.applied.values():
        metrics.PERIODS_APPLIED.labels(status=status).inc()
    for kind in outcome.dead_letters:
        metrics.DEAD_LETTERS.labels(reason=kind).inc()
    log.info(
        "batch applied",
        periods=len(outcome.applied),
        records=outcome.records,
        calculations=outcome.calculations,
        ignored_older=outcome.ignored_older,
        skipped=outcome.skipped,
        dead_letters=len(outcome.dead_letters),
    )


async def _record_lag(consumer: AIOKafkaConsumer, buffer: KeyOrderedBuffer) -> None:
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        if highwater is None:
            continue
        # Fetched but not yet applied is still behind.
        position = await consumer.position(tp) - buffer.pending(tp)
        metrics.CONSUMER_LAG.labels(topic=tp.topic, partition=str(tp.partition)).set(
            max(highwater - position, 0)
        )
