"""Wiring the calculator: database, topics, difficulty store, the consumer runtime with the calculator's
handler, the outbox relay, the pending sweep and the readiness probes.

`run_calculator(settings, stop)` runs it in the current event loop until `stop` is set (tests use it in
process); `main.run()` adds logging, the probe server and signal handling for the `windhash calculator`
command.
"""

import asyncio
import contextlib
from datetime import date

import asyncpg
import structlog
from faststream.kafka import KafkaBroker
from windhash_common.consumer_runtime.consumer import (
    Applied,
    ConsumerConfig,
    ConsumerHooks,
    TransactionalConsumer,
)
from windhash_common.consumer_runtime.messages import ConsumedMessage
from windhash_common.curtailment_facts.event_checks import decode_settlement_period
from windhash_common.curtailment_facts.write_path import WriteOutcome
from windhash_common.dependency_retries import DYNAMODB, POSTGRESQL, through_outages
from windhash_common.difficulty_store import DifficultyLookup, DifficultyStore, open_difficulty_store
from windhash_common.events import SettlementPeriodEvent
from windhash_common.outbox_pruning import run_configured_outbox_pruning
from windhash_common.outbox_relay import OutboxRelay
from windhash_common.readiness import Readiness
from windhash_common.service_loops import pool_and_publisher, run_consumer_worker

from windhash_calculator import metrics
from windhash_calculator.crash_points import CrashPoints
from windhash_calculator.handler import SERVICE, CalculateBatch
from windhash_calculator.pending_periods import complete_pending_periods
from windhash_calculator.settings import CalculatorSettings
from windhash_calculator.unit_of_work import PostgresCalculatorUnitOfWork

log = structlog.get_logger(__name__)
# Any day will do: the probe asks DynamoDB for one item by key.
_PROBE_DAY = date(2009, 1, 3)


def new_readiness() -> Readiness:
    return Readiness(SERVICE, ["postgresql", "kafka", "dynamodb"])


def calculator_consumer(
    settings: CalculatorSettings,
    pool: asyncpg.Pool,
    difficulties: DifficultyLookup,
    crash: CrashPoints,
    readiness: Readiness | None,
    relay_wake: asyncio.Event,
) -> TransactionalConsumer[SettlementPeriodEvent, PostgresCalculatorUnitOfWork, WriteOutcome]:
    config = ConsumerConfig.of_service(
        settings,
        SERVICE,
        settings.calculator_group,
        settings.topics.settlement_periods,
        (settings.calculator_batch_messages, int(settings.calculator_batch_wait_seconds * 1000)),
        session_timeout_ms=int(settings.calculator_session_timeout_seconds * 1000),
        key_ordered=True,
        transaction_policies=(POSTGRESQL, DYNAMODB),
    )
    max_bytes = settings.calculator_max_message_bytes

    def decode(message: ConsumedMessage) -> object:
        return decode_settlement_period(message.value, max_bytes)

    def on_applied(applied: Applied[WriteOutcome]) -> None:
        outcome = applied.result
        metrics.RECORDS_WRITTEN.inc(outcome.records)
        metrics.CALCULATIONS_WRITTEN.inc(outcome.calculations)
        metrics.SNAPSHOTS_IGNORED.inc(outcome.ignored_older)
        for status in outcome.applied.values():
            metrics.PERIODS_APPLIED.labels(status=status).inc()
        if outcome.pending_periods is not None:
            metrics.PERIODS_PENDING.set(outcome.pending_periods)
        if outcome.unstorable_periods is not None:
            metrics.PERIODS_UNSTORABLE.set(outcome.unstorable_periods)
        metrics.PERIODS_REFUSED.inc(len(outcome.refused))
        if outcome.applied:
            relay_wake.set()
        log.info(
            "batch applied", periods=len(outcome.applied), records=outcome.records,
            calculations=outcome.calculations, ignored_older=outcome.ignored_older, skipped=applied.skipped,
            dead_letters=len(applied.dead_letters),
        )  # fmt: skip

    hooks: ConsumerHooks[WriteOutcome] = ConsumerHooks(
        decode=decode,
        after_commit=lambda: crash.reached("after_db_commit"),
        on_applied=on_applied,
        relay_wake=relay_wake,
    )
    handle = CalculateBatch(settings.topics, settings.halvings(), lambda: crash.reached("mid_batch"))
    return TransactionalConsumer(
        config, pool, lambda: PostgresCalculatorUnitOfWork(pool, difficulties), handle, hooks, readiness
    )


async def run_calculator(
    settings: CalculatorSettings, stop: asyncio.Event, readiness: Readiness | None = None
) -> None:
    crash = CrashPoints(settings.calculator_crash_at)
    readiness = readiness or new_readiness()
    async with (
        pool_and_publisher(settings, SERVICE, readiness, (2, 6)) as (pool, broker),
        open_difficulty_store(settings) as store,
    ):
        await through_outages(store.ensure_table, "difficulty table", [DYNAMODB], readiness=readiness)
        await _run(settings, pool, store, crash, readiness, broker, stop)


async def _run(
    settings: CalculatorSettings,
    pool: asyncpg.Pool,
    store: DifficultyStore,
    crash: CrashPoints,
    readiness: Readiness,
    broker: KafkaBroker,
    stop: asyncio.Event,
) -> None:
    wake = asyncio.Event()
    consumer = calculator_consumer(settings, pool, store, crash, readiness, wake)
    relay = OutboxRelay(
        SERVICE,
        pool,
        broker,
        wake,
        settings.calculator_relay_interval_seconds,
        settings.calculator_relay_batch,
        lambda: crash.reached("during_relay"),
    )
    log.info("calculator running", group=settings.calculator_group)
    await run_consumer_worker(
        consumer,
        relay,
        readiness,
        stop,
        {
            "pending sweep": lambda: sweep_pending(pool, store, settings, readiness, stop, wake),
            "outbox pruning": lambda: run_configured_outbox_pruning(pool, settings, stop, readiness),
        },
        {"dynamodb": lambda: store.difficulty(_PROBE_DAY)},
    )
    log.info("calculator stopped")


async def sweep_pending(
    pool: asyncpg.Pool,
    difficulties: DifficultyLookup,
    settings: CalculatorSettings,
    readiness: Readiness | None,
    stop: asyncio.Event,
    wake: asyncio.Event,
) -> None:
    """Completes pending periods whose difficulty has arrived (also done at once by `windhash difficulty`)."""
    while not stop.is_set():

        async def sweep() -> int:
            outcome = await complete_pending_periods(pool, difficulties, settings.topics, settings.halvings())
            metrics.PERIODS_PENDING.set(outcome.still_pending)
            metrics.PERIODS_UNSTORABLE.set(outcome.unstorable)
            return len(outcome.completed)

        completed = await through_outages(
            sweep, "complete pending periods", [POSTGRESQL, DYNAMODB], readiness=readiness
        )
        if completed:
            log.info("pending periods completed", periods=completed)
            wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.calculator_pending_sweep_seconds)
