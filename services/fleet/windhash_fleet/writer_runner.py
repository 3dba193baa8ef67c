"""Wiring the telemetry writer: database, topics, the consumer runtime with the writer's handler, the outbox
relay (dead letters), the maintenance job (partitions, retention) and the readiness probes."""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog
from faststream.kafka import KafkaBroker
from windhash_common.consumer_runtime import metrics as runtime_metrics
from windhash_common.consumer_runtime.consumer import (
    Applied,
    ConsumerConfig,
    ConsumerHooks,
    TransactionalConsumer,
)
from windhash_common.events_fleet import MinerTelemetryEvent
from windhash_common.outbox_relay import OutboxRelay
from windhash_common.readiness import Readiness
from windhash_common.service_loops import pool_and_publisher, run_consumer_worker

from windhash_fleet import writer_metrics as metrics
from windhash_fleet.settings import FleetSettings
from windhash_fleet.telemetry_maintenance import run_maintenance
from windhash_fleet.telemetry_writer import SERVICE, TelemetryWriter, WrittenBatch, decode_telemetry
from windhash_fleet.writer_unit_of_work import PostgresWriterUnitOfWork

log = structlog.get_logger(__name__)
Clock = Callable[[], datetime]
LAG_SAMPLE = 1_000
AppliedHook = Callable[[Applied[WrittenBatch]], None]
WriterConsumer = TransactionalConsumer[MinerTelemetryEvent, PostgresWriterUnitOfWork, WrittenBatch]


def _now() -> datetime:
    return datetime.now(UTC)


def new_readiness() -> Readiness:
    return Readiness(SERVICE, ["postgresql", "kafka"])


def _observe(group: str, applied: Applied[WrittenBatch]) -> None:
    batch = applied.result
    metrics.ROWS_WRITTEN.inc(batch.written)
    metrics.DUPLICATES.inc(batch.duplicates)
    # The runtime counts what it could not decode; what the writer refused is dead-lettered by the writer
    # and counted with the same metric, so WindhashDeadLetters sees both.
    for kind in batch.refused:
        runtime_metrics.DEAD_LETTERS.labels(consumer=group, reason=kind).inc()
    committed = applied.committed_at.timestamp()
    # Every reading of a live batch; of a catch-up batch a uniform sample (the quantiles stay unbiased).
    step = max(1, len(batch.recorded_at) // LAG_SAMPLE)
    for recorded_at in batch.recorded_at[::step]:
        metrics.READING_LAG.observe(max(committed - recorded_at.timestamp(), 0.0))


def writer_consumer(
    settings: FleetSettings,
    pool: asyncpg.Pool,
    readiness: Readiness | None,
    relay_wake: asyncio.Event,
    on_applied: AppliedHook | None = None,
    clock: Clock = _now,
) -> WriterConsumer:
    batch = settings.fleet_writer_batch_messages, settings.fleet_writer_batch_wait_ms
    topic = settings.topics.miner_telemetry
    config = ConsumerConfig.of_service(settings, SERVICE, settings.fleet_writer_group, topic, batch)
    writer = TelemetryWriter(
        dead_letter_topic=settings.topics.dead_letter,
        retention_days=settings.fleet_telemetry_retention_days,
        clock_skew=timedelta(seconds=settings.fleet_clock_skew_s),
        clock=clock,
    )

    def applied(result: Applied[WrittenBatch]) -> None:
        _observe(config.group, result)
        if result.result.refused:
            relay_wake.set()
        if on_applied is not None:
            on_applied(result)

    hooks: ConsumerHooks[WrittenBatch] = ConsumerHooks(
        decode=decode_telemetry, on_applied=applied, relay_wake=relay_wake
    )
    return TransactionalConsumer(
        config, pool, lambda: PostgresWriterUnitOfWork(pool), writer, hooks, readiness
    )


async def run_writer(
    settings: FleetSettings,
    stop: asyncio.Event,
    on_applied: AppliedHook | None = None,
    readiness: Readiness | None = None,
    clock: Clock = _now,
) -> None:
    """The whole writer in the current event loop, until `stop` is set (tests and benchmarks run it so)."""
    readiness = readiness or new_readiness()
    for outcome in ("done", "failed"):
        metrics.MAINTENANCE_RUNS.labels(outcome)  # exported at 0 from the start
    async with pool_and_publisher(settings, SERVICE, readiness, (1, 4)) as (pool, broker):
        await _run(settings, pool, broker, readiness, stop, on_applied, clock)


async def _run(
    settings: FleetSettings,
    pool: asyncpg.Pool,
    broker: KafkaBroker,
    readiness: Readiness,
    stop: asyncio.Event,
    on_applied: AppliedHook | None,
    clock: Clock,
) -> None:
    wake = asyncio.Event()
    consumer = writer_consumer(settings, pool, readiness, wake, on_applied, clock)
    relay = OutboxRelay(
        SERVICE, pool, broker, wake, settings.fleet_relay_interval_s, settings.fleet_relay_batch
    )
    maintenance = {"maintenance": lambda: run_maintenance(pool, settings, stop, clock)}
    await run_consumer_worker(consumer, relay, readiness, stop, maintenance)
    log.info("telemetry writer stopped")
