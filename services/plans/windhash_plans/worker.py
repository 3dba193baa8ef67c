"""Wiring the plans worker (`windhash plans`): database, topics, the executor's consumer and its runner, the
automatic policy, the power-price sync, the outbox relay and the readiness probes.

The consumer runs in every worker (Kafka shares the partitions out); the executor, the policy and the price
sync each run in one worker at a time, under their leases (`plans/executor`, `plans/policy`,
`plans/prices`; `windhash jobs plans/` shows who holds them).
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import structlog
from faststream.kafka import KafkaBroker
from windhash_common.consumer_runtime.consumer import (
    Applied,
    ConsumerConfig,
    ConsumerHooks,
    TransactionalConsumer,
)
from windhash_common.job_leases import JobLease, LeaseLost, run_while_holding
from windhash_common.miner_rpc import CgminerRpc
from windhash_common.outbox_relay import run_relay
from windhash_common.readiness import Readiness, run_probes
from windhash_common.service_loops import pool_and_publisher, probe_postgresql, run_loops

from windhash_plans import metrics
from windhash_plans.automatic_policy import AutomaticPolicy
from windhash_plans.command_consumer import (
    SERVICE,
    CommandPlanner,
    ConsumedEvent,
    PostgresPlannerUnitOfWork,
    decoder,
)
from windhash_plans.executor import Executor
from windhash_plans.miner_control import MinerControl, RpcMinerControl
from windhash_plans.price_sync import PriceSync
from windhash_plans.settings import PlansSettings

log = structlog.get_logger(__name__)
Clock = Callable[[], datetime]
PlansConsumer = TransactionalConsumer[ConsumedEvent, PostgresPlannerUnitOfWork, int]


def _now() -> datetime:
    return datetime.now(UTC)


def new_readiness() -> Readiness:
    return Readiness(SERVICE, ["postgresql", "kafka"])


def plans_consumer(
    settings: PlansSettings,
    pool: asyncpg.Pool,
    readiness: Readiness | None,
    relay_wake: asyncio.Event,
    executor_wake: asyncio.Event,
    clock: Clock = _now,
) -> PlansConsumer:
    topics = settings.topics
    config = ConsumerConfig(
        service=SERVICE,
        group=settings.plans_executor_group,
        topics=[topics.curtailment_plans, topics.miner_status],
        dead_letter_topic=topics.dead_letter,
        kafka=settings.kafka,
        batch_messages=settings.plans_batch_messages,
        batch_wait_ms=settings.plans_batch_wait_ms,
    )

    def applied(result: Applied[int]) -> None:
        if result.result:
            executor_wake.set()

    hooks: ConsumerHooks[int] = ConsumerHooks(
        decode=decoder(topics), on_applied=applied, relay_wake=relay_wake
    )
    planner = CommandPlanner(settings.stagger, clock)
    return TransactionalConsumer(
        config, pool, lambda: PostgresPlannerUnitOfWork(pool), planner, hooks, readiness
    )


async def run_leased(
    pool: asyncpg.Pool,
    job_key: str,
    ttl_s: float,
    work: Callable[[], Awaitable[None]],
    stop: asyncio.Event,
) -> None:
    """`work` while this worker holds the job's lease; waits and takes over when another holder stops."""
    lease = JobLease(pool, job_key, ttl_s)
    while not stop.is_set():
        try:
            if not await run_while_holding(lease, work):
                log.debug("job held by another worker; waiting", job=job_key)
        except LeaseLost as error:
            log.warning("job lease lost; its work was stopped", error=str(error))
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("job lease unavailable", job=job_key, error=str(error))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=ttl_s / 3)


async def run_worker(
    settings: PlansSettings,
    stop: asyncio.Event,
    readiness: Readiness | None = None,
    clock: Clock = _now,
    control: MinerControl | None = None,
) -> None:
    """The whole worker in the current event loop, until `stop` is set (tests run it so)."""
    readiness = readiness or new_readiness()
    metrics.export_zeros()
    async with pool_and_publisher(settings, SERVICE, readiness, (2, 8)) as (pool, broker):
        rpc = CgminerRpc(settings.plans_rpc_timeout_s, settings.plans_rpc_max_reply_bytes)
        await _run(settings, pool, broker, readiness, stop, clock, control or RpcMinerControl(rpc))


async def _run(
    settings: PlansSettings,
    pool: asyncpg.Pool,
    broker: KafkaBroker,
    readiness: Readiness,
    stop: asyncio.Event,
    clock: Clock,
    control: MinerControl,
) -> None:
    relay_wake = asyncio.Event()
    executor = Executor(settings, pool, control, relay_wake, clock)
    consumer = plans_consumer(settings, pool, readiness, relay_wake, executor.wake, clock)
    policy = AutomaticPolicy(settings, pool, relay_wake, clock)
    ttl = settings.plans_lease_ttl_s
    await consumer.start()
    try:
        async with PriceSync.open(settings, pool, clock) as prices:
            await run_loops(
                {
                    "consumer": consumer.run(stop),
                    "relay": run_relay(
                        SERVICE,
                        pool,
                        broker,
                        stop,
                        relay_wake,
                        settings.plans_relay_interval_s,
                        settings.plans_relay_batch,
                        readiness,
                    ),
                    "executor": run_leased(pool, "plans/executor", ttl, lambda: executor.run(stop), stop),
                    "policy": run_leased(pool, "plans/policy", ttl, lambda: policy.run(stop), stop),
                    "prices": run_leased(pool, "plans/prices", ttl, lambda: prices.run(stop), stop),
                    "probes": run_probes(
                        readiness,
                        {"postgresql": lambda: probe_postgresql(pool), "kafka": consumer.probe_kafka},
                        stop,
                    ),
                },
                stop,
            )
    finally:
        await consumer.stop()
    log.info("plans worker stopped")
