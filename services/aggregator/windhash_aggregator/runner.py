"""Wiring the aggregator: database, topics, the consumer runtime with the aggregator's handler, the stale-day
drain between batches, the outbox relay (dead letters) and the readiness probes."""

import asyncio
from collections.abc import Callable
from dataclasses import replace

import asyncpg
import structlog
from faststream.kafka import KafkaBroker
from windhash_common.consumer_runtime.consumer import (
    Applied,
    ConsumerConfig,
    ConsumerHooks,
    TransactionalConsumer,
)
from windhash_common.dependency_retries import POSTGRESQL, through_outages
from windhash_common.events import PeriodCalculatedEvent
from windhash_common.outbox_pruning import run_configured_outbox_pruning
from windhash_common.outbox_relay import OutboxRelay
from windhash_common.readiness import Readiness
from windhash_common.service_loops import pool_and_publisher, run_consumer_worker

from windhash_aggregator import metrics
from windhash_aggregator.handler import SERVICE, AppliedBatch, aggregate_batch, decode_period_calculated
from windhash_aggregator.settings import AggregatorSettings
from windhash_aggregator.unit_of_work import PostgresAggregatorUnitOfWork

log = structlog.get_logger(__name__)
STALE_DAYS_PER_TRANSACTION = 200
AppliedHook = Callable[[AppliedBatch], None]


def new_readiness() -> Readiness:
    return Readiness(SERVICE, ["postgresql", "kafka"])


def _observe(applied: Applied[AppliedBatch]) -> None:
    batch = applied.result
    metrics.DAYS_RECOMPUTED.inc(len(batch.scope.days))
    for positioned in batch.applied:
        lag = (applied.committed_at - positioned.event.calculated_at).total_seconds()
        metrics.SUMMARY_FRESHNESS.observe(max(lag, 0.0))
    log.debug("batch applied", events=applied.applied, skipped=applied.skipped, days=len(batch.scope.days))


def aggregator_consumer(
    settings: AggregatorSettings,
    pool: asyncpg.Pool,
    readiness: Readiness | None,
    relay_wake: asyncio.Event,
    on_applied: AppliedHook | None = None,
) -> TransactionalConsumer[PeriodCalculatedEvent, PostgresAggregatorUnitOfWork, AppliedBatch]:
    batch = settings.aggregator_batch_max_records, int(settings.aggregator_poll_timeout_seconds * 1000)
    topic = settings.topics.period_calculated
    config = ConsumerConfig.of_service(settings, SERVICE, settings.aggregator_group, topic, batch)
    loop = asyncio.get_running_loop()
    drained_at = 0.0

    async def drain_stale_days() -> None:
        """Days marked stale by a price written after their summaries (migration 0300), between batches."""
        nonlocal drained_at
        if loop.time() - drained_at < settings.aggregator_stale_drain_seconds:
            return

        async def drain_once() -> int:
            async with PostgresAggregatorUnitOfWork(pool) as uow:
                return len((await uow.summaries.drain_stale_days(STALE_DAYS_PER_TRANSACTION)).days)

        while days := await through_outages(
            drain_once, "drain stale days", [POSTGRESQL], readiness=readiness
        ):
            metrics.DAYS_RECOMPUTED.inc(days)
            log.info("recomputed days whose price changed", days=days)
        drained_at = loop.time()

    def applied(result: Applied[AppliedBatch]) -> None:
        _observe(result)
        if on_applied is not None:
            on_applied(replace(result.result, committed_at=result.committed_at))

    hooks: ConsumerHooks[AppliedBatch] = ConsumerHooks(
        decode=decode_period_calculated,
        on_applied=applied,
        between_batches=drain_stale_days,
        relay_wake=relay_wake,
    )
    return TransactionalConsumer(
        config, pool, lambda: PostgresAggregatorUnitOfWork(pool), aggregate_batch, hooks, readiness
    )


async def run_aggregator(
    settings: AggregatorSettings,
    stop: asyncio.Event,
    on_applied: AppliedHook | None = None,
    readiness: Readiness | None = None,
) -> None:
    """The whole service in the current event loop, until `stop` is set (tests and benchmarks run it so)."""
    readiness = readiness or new_readiness()
    async with pool_and_publisher(settings, SERVICE, readiness, (1, 3)) as (pool, broker):
        await _run(settings, pool, broker, readiness, stop, on_applied)


async def _run(
    settings: AggregatorSettings,
    pool: asyncpg.Pool,
    broker: KafkaBroker,
    readiness: Readiness,
    stop: asyncio.Event,
    on_applied: AppliedHook | None,
) -> None:
    wake = asyncio.Event()
    consumer = aggregator_consumer(settings, pool, readiness, wake, on_applied)
    interval, batch = settings.aggregator_relay_interval_seconds, settings.aggregator_relay_batch
    relay = OutboxRelay(SERVICE, pool, broker, wake, interval, batch)
    await run_consumer_worker(
        consumer,
        relay,
        readiness,
        stop,
        {"outbox pruning": lambda: run_configured_outbox_pruning(pool, settings, stop, readiness)},
    )
    log.info("aggregator stopped")
