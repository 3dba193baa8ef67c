"""Wiring the calculator: database, topics, difficulty store, consumer, outbox relay and pending sweep.

`run_calculator(settings, stop)` runs it in the current event loop until `stop` is set (tests use it in
process); `main.run()` adds logging, metrics and signal handling for the `windhash calculator` command.
"""

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker
from windhash_common.db import create_pool, migrate_database
from windhash_common.db_retry import with_db_retries
from windhash_common.difficulty_store import DifficultyLookup, open_difficulty_store
from windhash_common.kafka_broker import connected_kafka_broker
from windhash_common.kafka_topics import ensure_topics

from windhash_calculator import metrics
from windhash_calculator.batch_assembly import KeyOrderedBuffer
from windhash_calculator.consumer import ConsumerContext, StoredPositionSeeker, consume
from windhash_calculator.crash_points import CrashPoints
from windhash_calculator.outbox_relay import run_relay
from windhash_calculator.pending_periods import complete_pending_periods
from windhash_calculator.settings import CalculatorSettings

log = structlog.get_logger(__name__)


async def run_calculator(settings: CalculatorSettings, stop: asyncio.Event) -> None:
    crash = CrashPoints(settings.calculator_crash_at)
    await migrate_database(settings.database_url)
    await ensure_topics(settings.kafka_bootstrap, settings.topics, settings.topic_partitions)
    pool = await create_pool(settings.database_url, min_size=2, max_size=6)
    try:
        async with open_difficulty_store(settings) as store:
            await store.ensure_table()
            buffer = KeyOrderedBuffer()
            consumer = AIOKafkaConsumer(
                bootstrap_servers=settings.kafka_bootstrap,
                group_id=settings.calculator_group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                session_timeout_ms=settings.calculator_session_timeout_ms,
                heartbeat_interval_ms=settings.calculator_session_timeout_ms // 3,
            )
            consumer.subscribe(
                [settings.topics.settlement_periods],
                listener=StoredPositionSeeker(consumer, pool, settings.calculator_group, buffer),
            )
            broker = await connected_kafka_broker(settings.kafka_bootstrap, "calculator")
            try:
                await consumer.start()
                try:
                    context = ConsumerContext(consumer, pool, store, settings, crash, buffer)
                    await _run_until_stopped(context, broker, stop)
                finally:
                    await consumer.stop()
            finally:
                await broker.stop()
    finally:
        await pool.close()


async def _run_until_stopped(context: ConsumerContext, broker: KafkaBroker, stop: asyncio.Event) -> None:
    settings = context.settings
    wake = asyncio.Event()
    loops: list[Coroutine[Any, Any, None]] = [
        consume(context, stop, wake),
        run_relay(
            context.pool,
            broker,
            stop,
            wake,
            settings.calculator_relay_interval_seconds,
            settings.calculator_relay_batch,
            context.crash,
            settings.calculator_db_attempts,
            settings.calculator_db_backoff_seconds,
        ),
        sweep_pending(context.pool, context.difficulties, settings, stop, wake),
    ]
    tasks = [asyncio.create_task(loop) for loop in loops]
    stopped = asyncio.create_task(stop.wait())
    log.info("calculator running", topic=settings.topics.settlement_periods, group=settings.calculator_group)
    done, _ = await asyncio.wait([*tasks, stopped], return_when=asyncio.FIRST_COMPLETED)
    stop.set()  # one loop failing stops the others
    failed = [task for task in done if task is not stopped and task.exception() is not None]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=30)
    except TimeoutError:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
    if failed:
        raise failed[0].exception() or RuntimeError("calculator loop failed")
    log.info("calculator stopped")


async def sweep_pending(
    pool: asyncpg.Pool,
    difficulties: DifficultyLookup,
    settings: CalculatorSettings,
    stop: asyncio.Event,
    wake: asyncio.Event,
) -> None:
    """Completes pending periods whose difficulty has arrived (also done at once by `windhash difficulty`)."""
    while not stop.is_set():

        async def sweep() -> int:
            outcome = await complete_pending_periods(pool, difficulties, settings.topics, settings.halvings())
            metrics.PERIODS_PENDING.set(outcome.still_pending)
            return len(outcome.completed)

        completed = await with_db_retries(
            sweep,
            "complete pending periods",
            settings.calculator_db_attempts,
            settings.calculator_db_backoff_seconds,
            on_retry=metrics.DB_RETRIES.inc,
        )
        if completed:
            log.info("pending periods completed", periods=completed)
            wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.calculator_pending_sweep_seconds)
