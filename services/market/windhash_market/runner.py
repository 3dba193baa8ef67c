"""Wiring the market service: database, topics, DynamoDB, the two source clients, the job lease, the cycles,
the outbox relay and the HTTP app, side by side until stopped (`service_loops.run_loops`).

One runner at a time: cycles run only while this process holds the `market/snapshots` lease
(`windhash_common.job_leases`, visible in `windhash jobs`); another instance waits and takes over when the
holder stops renewing. A cycle that fails (PostgreSQL or DynamoDB away) is logged and counted and the next
one runs at the next slot: nothing a source or a dependency does ends the service.

Every instance, holder or not, serves the HTTP app (`http_app`, on `WINDHASH_METRICS_HOST:PORT`, with its own
pool so requests never wait behind a cycle) and runs the shared outbox relay, woken after each cycle, so the
snapshots' events reach Kafka whatever else runs (the relays of all services take turns by an advisory lock).
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
import structlog
from windhash_common.access.service_server import serve_until, service_server
from windhash_common.db import create_pool, migrate_database
from windhash_common.dependency_retries import KAFKA, through_outages
from windhash_common.difficulty_store import open_difficulty_store
from windhash_common.job_leases import JobLease, LeaseLost, run_while_holding
from windhash_common.kafka_broker import connected_kafka_broker
from windhash_common.market_sources.explorer import ExplorerClient
from windhash_common.market_sources.price_api import PriceApiClient
from windhash_common.outbox_relay import run_relay
from windhash_common.service_loops import run_loops
from windhash_common.topics import ensure_topics

from windhash_market import metrics
from windhash_market.collector import MarketCollector
from windhash_market.http_app import create_market_app
from windhash_market.settings import JOB_KEY, MarketSettings
from windhash_market.snapshot import slot_start
from windhash_market.sources import MarketSources

log = structlog.get_logger(__name__)
Clock = Callable[[], datetime]
SERVICE = "market"


def _now() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def market_collector(
    settings: MarketSettings, pool: asyncpg.Pool, clock: Clock = _now
) -> AsyncIterator[MarketCollector]:
    """A collector with its DynamoDB table and source clients open (the service and the CLI share it)."""
    limits = settings.fetch_limits()
    async with (
        open_difficulty_store(settings) as store,
        ExplorerClient(settings.explorer_url, limits) as explorer,
        PriceApiClient(settings.price_api_url, limits, settings.price_api_key_value) as prices,
    ):
        await store.ensure_table()
        yield MarketCollector(pool, MarketSources(explorer, prices), store, settings, clock)


async def run_market(settings: MarketSettings, stop: asyncio.Event, clock: Clock = _now) -> None:
    await migrate_database(settings.database_url)
    await ensure_topics(settings.kafka, settings.topics, settings.topic_layout)
    pool = await create_pool(settings.database_url, min_size=1, max_size=5)
    http_pool = await create_pool(settings.database_url, min_size=1, max_size=settings.market_http_pool_size)
    try:
        broker = await through_outages(
            lambda: connected_kafka_broker(settings.kafka, SERVICE),
            "connect the publisher",
            [KAFKA],
        )
        try:
            async with market_collector(settings, pool, clock) as collector:
                wake = asyncio.Event()
                app = create_market_app(settings, http_pool)
                server = service_server(app, settings, settings.metrics_host, settings.metrics_port)
                interval, batch = settings.market_relay_interval_seconds, settings.market_relay_batch
                log.info("market service running", job=JOB_KEY, interval=str(settings.interval))
                await run_loops(
                    {
                        "cycles": _cycles_while_holding(collector, settings, stop, clock, wake),
                        "relay": run_relay(SERVICE, pool, broker, stop, wake, interval, batch),
                        "http": serve_until(server, stop),
                    },
                    stop,
                )
        finally:
            await broker.stop()
    finally:
        await http_pool.close()
        await pool.close()
    log.info("market service stopped")


async def _cycles_while_holding(
    collector: MarketCollector,
    settings: MarketSettings,
    stop: asyncio.Event,
    clock: Clock,
    wake: asyncio.Event,
) -> None:
    """Cycles while this process holds the job's lease; otherwise waits for it (another holder runs them)."""
    lease = JobLease(collector.pool, JOB_KEY, settings.market_lease_ttl_s)
    while not stop.is_set():
        try:
            held = await run_while_holding(lease, lambda: _cycles(collector, settings, stop, clock, wake))
            if not held:
                log.info("market job held by another process; waiting", job=JOB_KEY)
        except LeaseLost as error:
            log.warning("market job lease lost; cycles stopped", error=str(error))
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("market job lease unavailable", error=str(error))
        await _sleep_or_stop(stop, settings.market_lease_ttl_s / 3)


async def _cycles(
    collector: MarketCollector,
    settings: MarketSettings,
    stop: asyncio.Event,
    clock: Clock,
    wake: asyncio.Event,
) -> None:
    metrics.LEASE_HELD.set(1)
    try:
        while not stop.is_set():
            await run_one_cycle(collector.run_cycle)
            wake.set()  # the relay publishes the cycle's events now rather than at its next poll
            await _sleep_or_stop(stop, seconds_to_next_cycle(settings, clock()))
    finally:
        metrics.LEASE_HELD.set(0)


async def run_one_cycle(cycle: Callable[[], Awaitable[None]]) -> bool:
    try:
        await cycle()
        return True
    except Exception:
        metrics.CYCLE_FAILURES.inc()
        log.exception("market cycle failed; the next one runs at the next slot")
        return False


def seconds_to_next_cycle(settings: MarketSettings, now: datetime) -> float:
    """Until the next slot starts (a few seconds after, so the sources have it), or the configured poll."""
    if settings.market_poll_seconds is not None:
        return settings.market_poll_seconds
    next_slot = slot_start(now, settings.interval) + settings.interval
    return (next_slot - now).total_seconds() + settings.market_cycle_delay_seconds


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.0))
