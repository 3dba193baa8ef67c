"""The transactional consumer every windhash consumer runs on.

For each batch: decode the messages (what cannot be decoded becomes a dead letter), open a unit of work (one
PostgreSQL transaction), lock this group's stored positions and drop what is below them (applied already),
hand the rest to `handle(batch, uow)`, add the dead letters to the outbox, advance the positions, commit; then
commit the Kafka offsets (a courtesy for tools that read group offsets: the stored positions are what counts).
On every partition assignment it seeks to the stored positions (aiokafka's "storing offsets outside Kafka").

aiokafka directly rather than a FastStream subscriber: seeking to positions stored in PostgreSQL on every
assignment and committing offsets only after a transaction spanning several partitions are exactly what
FastStream's subscribers hide.

An outage of PostgreSQL (or whatever else the policies name) is waited out, the batch retried whole
(`dependency_retries`); the consumer reports not-ready meanwhile and never skips the batch.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, Self, TypeVar

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaConnectionError, KafkaError

from windhash_common.consumer_runtime import metrics
from windhash_common.consumer_runtime.key_ordered_buffer import KeyOrderedBuffer
from windhash_common.consumer_runtime.messages import Batch, ConsumedMessage, Decoded, Positioned
from windhash_common.consumer_runtime.positions import load_positions, next_offsets_after
from windhash_common.consumer_runtime.unit_of_work import UnitOfWork
from windhash_common.dead_letters import Rejection, Source, dead_letter
from windhash_common.dependency_retries import KAFKA, POSTGRESQL, RetryPolicy, through_outages
from windhash_common.kafka_connection import KafkaTarget, as_connection
from windhash_common.outbox import OutboxMessage, outbox_message
from windhash_common.readiness import Readiness
from windhash_common.settings import CommonSettings

log = structlog.get_logger(__name__)

E = TypeVar("E")
U = TypeVar("U", bound=UnitOfWork)
R = TypeVar("R")
U_contra = TypeVar("U_contra", bound=UnitOfWork, contravariant=True)
R_co = TypeVar("R_co", covariant=True)


class BatchHandler(Protocol[E, U_contra, R_co]):
    def __call__(self, batch: Batch[E], uow: U_contra) -> Awaitable[R_co]: ...


@dataclass(frozen=True)
class ConsumerConfig:
    service: str
    """Names the dead letters' `service` and the relay's metrics."""
    group: str
    """The consumer group, whose positions are stored; the `consumer` label of the runtime's metrics."""
    topics: Sequence[str]
    dead_letter_topic: str
    kafka: KafkaTarget
    batch_messages: int
    batch_wait_ms: int
    session_timeout_ms: int = 10_000
    key_ordered: bool = False
    """Draw batches across partitions in key order (`key_ordered_buffer`) rather than as fetched."""
    transaction_policies: Sequence[RetryPolicy] = (POSTGRESQL,)
    """The dependencies a batch's transaction may lose and wait for."""

    @classmethod
    def of_service(
        cls,
        settings: CommonSettings,
        service: str,
        group: str,
        topic: str,
        batch: tuple[int, int],
        **options: Any,
    ) -> Self:
        """A service's consumer of one topic over the settings' Kafka connection, dead-lettering to their
        dead-letter topic; `batch` is (most messages, longest wait in milliseconds)."""
        kafka, dead_letters = settings.kafka, settings.topics.dead_letter
        return cls(service, group, [topic], dead_letters, kafka, *batch, **options)


@dataclass(frozen=True)
class Applied(Generic[R]):
    """A committed batch: the handler's result and what the runtime did around it."""

    result: R
    applied: int
    skipped: int
    dead_letters: tuple[str, ...]
    """Rejection kinds."""
    committed_at: datetime


@dataclass
class ConsumerHooks(Generic[R]):
    decode: Callable[[ConsumedMessage], object]
    """The message's event, or a `Rejection` saying why it has none."""
    after_commit: Callable[[], None] = lambda: None
    """Runs between the database commit and the Kafka commit (the calculator's crash point)."""
    on_applied: Callable[["Applied[R]"], None] = lambda applied: None
    between_batches: Callable[[], Awaitable[None]] | None = None
    """Periodic work of the service's own, run between batches (the aggregator's stale days)."""
    relay_wake: asyncio.Event = field(default_factory=asyncio.Event)
    """Set after a batch that added outbox rows, so the relay publishes them at once."""


class StoredPositionSeeker(ConsumerRebalanceListener):  # type: ignore[misc]
    """Seeks each newly assigned partition to the position stored with the effects of the last batch."""

    def __init__(
        self, consumer: AIOKafkaConsumer, pool: asyncpg.Pool, group: str, buffer: KeyOrderedBuffer
    ) -> None:
        self._consumer, self._pool, self._group, self._buffer = consumer, pool, group, buffer

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        # Nothing to flush: a batch is committed to PostgreSQL before the next poll can trigger a rebalance.
        # Fetched records not applied yet are the next owner's to read, from the stored position.
        self._buffer.drop(revoked)

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        if not assigned:
            return
        try:
            # Bounded: a rebalance must not wait out a long outage. Without the seek the consumer starts from
            # the committed Kafka offsets, which never pass the stored positions; the transaction then skips
            # whatever it finds already applied.
            stored = await through_outages(
                lambda: load_positions(
                    self._pool, self._group, [(tp.topic, tp.partition) for tp in assigned]
                ),
                "load stored positions",
                [POSTGRESQL],
                attempts=3,
            )
        except Exception as error:
            log.warning("stored positions unavailable; resuming from Kafka's offsets", error=repr(error))
            return
        for tp in assigned:
            if (tp.topic, tp.partition) in stored:
                self._consumer.seek(tp, stored[(tp.topic, tp.partition)])
        log.info(
            "partitions assigned", group=self._group,
            partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in assigned), stored=len(stored),
        )  # fmt: skip


class TransactionalConsumer(Generic[E, U, R]):
    def __init__(
        self,
        config: ConsumerConfig,
        pool: asyncpg.Pool,
        unit_of_work: Callable[[], AbstractAsyncContextManager[U]],
        handle: BatchHandler[E, U, R],
        hooks: ConsumerHooks[R],
        readiness: Readiness | None = None,
    ) -> None:
        self.config, self._pool, self._unit_of_work, self._handle = config, pool, unit_of_work, handle
        self.hooks, self._readiness = hooks, readiness
        self.buffer = KeyOrderedBuffer()
        self.kafka = AIOKafkaConsumer(
            **as_connection(config.kafka).client_options(),
            group_id=config.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=config.session_timeout_ms,
            heartbeat_interval_ms=config.session_timeout_ms // 3,
        )
        for outcome in ("applied", "skipped", "dead_lettered"):
            metrics.MESSAGES.labels(consumer=config.group, outcome=outcome)  # exported at 0 from the start
        self.kafka.subscribe(
            list(config.topics), listener=StoredPositionSeeker(self.kafka, pool, config.group, self.buffer)
        )

    async def start(self) -> None:
        await through_outages(self.kafka.start, "start the consumer", [KAFKA], readiness=self._readiness)

    async def stop(self) -> None:
        await self.kafka.stop()

    async def probe_kafka(self) -> None:
        """A metadata request for the subscribed topics only (the public `topics()` asks for every topic of
        the cluster, which costs the broker far more every few seconds); raises while no broker answers."""
        if not await self.kafka._client.force_metadata_update():
            raise KafkaConnectionError("no broker answered a metadata request")

    async def run(self, stop: asyncio.Event) -> None:
        log.info("consuming", group=self.config.group, topics=list(self.config.topics))
        size = self.config.batch_messages
        while not stop.is_set():
            # Keep about two batches fetched, so a key-ordered batch is drawn across every partition; wait
            # for Kafka only when nothing is left to apply.
            buffered = len(self.buffer)
            if buffered < 2 * size:
                wait_ms = 0 if buffered else self.config.batch_wait_ms
                self.buffer.add(await self.kafka.getmany(timeout_ms=wait_ms))
            await self._record_lag()
            fetched = self.buffer.take(size, self.config.key_ordered)
            if fetched:
                messages = [
                    ConsumedMessage(tp.topic, tp.partition, record.offset, record.key, record.value)
                    for tp, records in fetched.items()
                    for record in records
                ]
                await self.apply(messages)
                await self._commit({tp: records[-1].offset + 1 for tp, records in fetched.items()})
            if self.hooks.between_batches is not None:
                await self.hooks.between_batches()

    async def apply(self, messages: Sequence[ConsumedMessage]) -> Applied[R]:
        """Apply one batch in one transaction (retried whole through outages); what the consumer loop does
        with every batch, callable on its own by tests and benchmarks."""
        ordered = sorted(messages, key=lambda message: (message.topic, message.partition, message.offset))
        decoded = [Decoded(message, self.hooks.decode(message)) for message in ordered]
        started = time.perf_counter()
        applied = await through_outages(
            lambda: self._transaction(decoded),
            f"apply a batch of {self.config.group}",
            self.config.transaction_policies,
            readiness=self._readiness,
        )
        metrics.BATCH_SECONDS.labels(consumer=self.config.group).observe(time.perf_counter() - started)
        self.hooks.after_commit()
        self._record(applied)
        return applied

    async def _transaction(self, decoded: Sequence[Decoded[object]]) -> Applied[R]:
        async with self._unit_of_work() as uow:
            config = self.config
            return await apply_batch(
                uow, decoded, self._handle, config.service, config.group, config.dead_letter_topic
            )

    def _record(self, applied: Applied[R]) -> None:
        group = self.config.group
        metrics.MESSAGES.labels(consumer=group, outcome="applied").inc(applied.applied)
        metrics.MESSAGES.labels(consumer=group, outcome="skipped").inc(applied.skipped)
        metrics.MESSAGES.labels(consumer=group, outcome="dead_lettered").inc(len(applied.dead_letters))
        for kind in applied.dead_letters:
            metrics.DEAD_LETTERS.labels(consumer=group, reason=kind).inc()
        if applied.dead_letters:
            self.hooks.relay_wake.set()
        self.hooks.on_applied(applied)

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await self.kafka.commit(offsets)
        except KafkaError as error:
            # The stored positions already cover this batch; the next owner of the partition seeks to them.
            log.warning("kafka offset commit failed after the database commit", error=repr(error))

    async def _record_lag(self) -> None:
        for tp in self.kafka.assignment():
            highwater = self.kafka.highwater(tp)
            if highwater is None:
                continue
            # Fetched but not yet applied is still behind.
            position = await self.kafka.position(tp) - self.buffer.pending(tp)
            metrics.LAG.labels(consumer=self.config.group, topic=tp.topic, partition=str(tp.partition)).set(
                max(highwater - position, 0)
            )


async def apply_batch(
    uow: U,
    decoded: Sequence[Decoded[object]],
    handle: BatchHandler[E, U, R],
    service: str,
    group: str,
    dead_letter_topic: str,
) -> Applied[R]:
    """The body of a batch's transaction, in the unit of work `uow` (which commits it): lock the positions,
    hand the messages past them to `handle`, dead-letter the rejected ones and those the handler refused,
    advance the positions."""
    stored = await uow.positions.lock(group, {item.message.topic_partition for item in decoded})
    fresh = [item for item in decoded if item.message.offset >= stored.get(item.message.topic_partition, 0)]
    rejected = tuple((item.message, item.outcome) for item in fresh if isinstance(item.outcome, Rejection))
    events = tuple(
        Positioned(item.message, item.outcome) for item in fresh if not isinstance(item.outcome, Rejection)
    )
    batch: Batch[E] = Batch(events, len(decoded) - len(fresh), rejected)  # type: ignore[arg-type]
    result = await handle(batch, uow)
    dead = (*rejected, *batch.refused)
    await uow.outbox.add(dead_letter_messages(service, dead_letter_topic, dead))
    next_offsets = next_offsets_after(
        (item.message.topic, item.message.partition, item.message.offset) for item in decoded
    )
    await uow.positions.advance(group, next_offsets)
    kinds = tuple(rejection.kind for _, rejection in dead)
    return Applied(result, len(events) - len(batch.refused), batch.skipped, kinds, datetime.now(UTC))


def dead_letter_messages(
    service: str, dead_letter_topic: str, rejected: Sequence[tuple[ConsumedMessage, Rejection]]
) -> list[OutboxMessage]:
    now = datetime.now(UTC)
    letters = []
    for message, rejection in rejected:
        source = Source(message.topic, message.partition, message.offset, message.key)
        letter = dead_letter(service, rejection, message.value, now, source)
        letters.append(outbox_message(dead_letter_topic, letter, message.key))
        log.warning(
            "dead-lettered message", topic=message.topic, partition=message.partition,
            offset=message.offset, reason=letter.reason[:300],
        )  # fmt: skip
    return letters
