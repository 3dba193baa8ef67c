"""Wiring: settings, logging, metrics, schema, topics, then the consumer until SIGTERM / SIGINT."""

import asyncio
import signal

import structlog
from prometheus_client import start_http_server
from windhash_common import event_loop
from windhash_common.db import create_pool, migrate_database
from windhash_common.kafka_topics import ensure_topics
from windhash_common.logging_setup import configure_logging

from windhash_aggregator.consumer import AppliedHook, consume_period_events
from windhash_aggregator.settings import Settings

log = structlog.get_logger("windhash_aggregator")


async def run_aggregator(
    settings: Settings, stop: asyncio.Event, on_applied: AppliedHook | None = None
) -> None:
    """The whole service in the current event loop, until `stop` is set (tests and benchmarks run it so)."""
    await migrate_database(settings.database_url)
    await ensure_topics(settings.kafka_bootstrap, settings.topics, settings.topic_partitions)
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        await consume_period_events(settings, pool, stop, on_applied)
    finally:
        await pool.close()


async def _run_until_signalled(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await run_aggregator(settings, stop)
    log.info("aggregator stopped")


def run() -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=settings.metrics_host)
        log.info("metrics served", host=settings.metrics_host, port=settings.metrics_port)
    event_loop.run(_run_until_signalled(settings))
