"""Running a worker's loops side by side until it is stopped, and its start-up steps through outages.

`run_loops` runs every loop (consumer, relay, sweeps, probes) until `stop` is set; a loop that ends with an
error stops the others and the error is raised, so the process exits non-zero rather than half working.
Loops do not end on an outage: they wait it out (`dependency_retries`). `run_consumer_worker` is the shape
every consuming worker shares: its consumer, its outbox relay, its own loops and the readiness probes.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from typing import Any, Protocol

import asyncpg
import structlog
from faststream.kafka import KafkaBroker

from windhash_common.db import create_pool, migrate_database
from windhash_common.dependency_retries import KAFKA, POSTGRESQL, through_outages
from windhash_common.kafka_broker import connected_kafka_broker
from windhash_common.kafka_connection import KafkaTarget
from windhash_common.outbox_relay import OutboxRelay
from windhash_common.readiness import Probe, Readiness, run_probes
from windhash_common.settings import CommonSettings
from windhash_common.topics import TopicLayout, Topics, ensure_topics

log = structlog.get_logger(__name__)
STOP_GRACE_SECONDS = 30.0


async def run_loops(loops: Mapping[str, Coroutine[Any, Any, None]], stop: asyncio.Event) -> None:
    tasks = {asyncio.create_task(loop, name=name): name for name, loop in loops.items()}
    stopped = asyncio.create_task(_wait(stop))
    done, _ = await asyncio.wait([*tasks, stopped], return_when=asyncio.FIRST_COMPLETED)
    stop.set()  # one loop ending stops the others
    failed = [task for task in done if task in tasks and task.exception() is not None]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=STOP_GRACE_SECONDS)
    except TimeoutError:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
    stopped.cancel()
    if failed:
        log.error("a loop failed", loop=tasks[failed[0]])
        raise failed[0].exception() or RuntimeError(f"{tasks[failed[0]]} failed")


async def _wait(stop: asyncio.Event) -> None:
    await stop.wait()


class ConsumerLoop(Protocol):
    """What `run_consumer_worker` needs of a consumer (`consumer_runtime.TransactionalConsumer`)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def run(self, stop: asyncio.Event) -> None: ...

    async def probe_kafka(self) -> None: ...


async def run_consumer_worker(
    consumer: ConsumerLoop,
    relay: OutboxRelay,
    readiness: Readiness,
    stop: asyncio.Event,
    loops: Mapping[str, Callable[[], Coroutine[Any, Any, None]]] | None = None,
    probes: Mapping[str, Probe] | None = None,
) -> None:
    """A consuming worker until `stop`: the consumer started, then side by side (`run_loops`) the consumer,
    the outbox relay, the worker's own `loops` (each made once the consumer has started) and the readiness
    probes (PostgreSQL through the relay's pool, the consumer's Kafka, and the worker's own `probes`); the
    consumer stopped at the end, however it ends."""
    await consumer.start()
    try:
        checks: dict[str, Probe] = {
            "postgresql": lambda: probe_postgresql(relay.pool),
            "kafka": consumer.probe_kafka,
            **(probes or {}),
        }
        await run_loops(
            {
                "consumer": consumer.run(stop),
                "relay": relay.run(stop, readiness),
                **{name: make() for name, make in (loops or {}).items()},
                "probes": run_probes(readiness, checks, stop),
            },
            stop,
        )
    finally:
        await consumer.stop()


async def prepare_database_and_topics(
    database_url: str,
    kafka: KafkaTarget,
    topics: Topics,
    layout: TopicLayout,
    readiness: Readiness | None,
    pool_size: tuple[int, int],
) -> asyncpg.Pool:
    """Migrate, create the topics and open a pool, each waiting out an outage (a worker may start first)."""
    await through_outages(
        lambda: migrate_database(database_url), "migrate", [POSTGRESQL], readiness=readiness
    )
    await through_outages(
        lambda: ensure_topics(kafka, topics, layout), "create topics", [KAFKA], readiness=readiness
    )
    return await through_outages(
        lambda: create_pool(database_url, min_size=pool_size[0], max_size=pool_size[1]),
        "open the pool",
        [POSTGRESQL],
        readiness=readiness,
    )


@contextlib.asynccontextmanager
async def pool_and_publisher(
    settings: CommonSettings, service: str, readiness: Readiness | None, pool_size: tuple[int, int]
) -> AsyncIterator[tuple[asyncpg.Pool, KafkaBroker]]:
    """A worker's start-up through outages: the schema migrated, the topics made, a pool open and a connected
    publisher (for its outbox relay); both closed when the worker ends."""
    pool = await prepare_database_and_topics(
        settings.database_url, settings.kafka, settings.topics, settings.topic_layout, readiness, pool_size
    )
    try:
        broker = await through_outages(
            lambda: connected_kafka_broker(settings.kafka, service),
            "connect the publisher",
            [KAFKA],
            readiness=readiness,
        )
        try:
            yield pool, broker
        finally:
            await broker.stop()
    finally:
        await pool.close()


async def probe_postgresql(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as connection:
        await connection.fetchval("SELECT 1")
