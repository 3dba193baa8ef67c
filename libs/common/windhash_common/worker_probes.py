"""`/health` and `/ready` for every worker, the same way: the probe server on WINDHASH_METRICS_PORT
(probe_server.py) and a loop checking PostgreSQL and Kafka every few seconds (readiness.run_probes).

Workers with their own probes (the calculator's consumer, the aggregator's) pass their own; the others (the
ingestor, the reconciler, the market service, the fleet collector) wrap their main coroutine in
`with_dependency_probes`, which connects to each dependency as the service does (its role, its Kafka
credentials) and reports what it finds.
"""

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from windhash_common.kafka_connection import KafkaTarget, as_connection
from windhash_common.probe_server import serve_probes
from windhash_common.readiness import Probe, Readiness, run_probes
from windhash_common.settings import CommonSettings

T = TypeVar("T")
PROBE_INTERVAL_SECONDS = 10.0


async def probe_database(dsn: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=5)
    await connection.close()


async def probe_kafka(kafka: KafkaTarget) -> None:
    admin = AIOKafkaAdminClient(**as_connection(kafka).client_options(), request_timeout_ms=5000)
    try:
        await admin.start()
    finally:
        await admin.close()


def dependency_probes(settings: CommonSettings) -> dict[str, Probe]:
    return {
        "postgresql": lambda: probe_database(settings.database_url),
        "kafka": lambda: probe_kafka(settings.kafka),
    }


def serve_worker_probes(service: str, settings: CommonSettings) -> Readiness:
    """The readiness of `service`, served (with /metrics and /health) when it has a metrics port."""
    readiness = Readiness(service, ["postgresql", "kafka"])
    if settings.metrics_port:
        serve_probes(settings.metrics_host, settings.metrics_port, readiness)
    return readiness


async def with_dependency_probes(main: Awaitable[T], readiness: Readiness, settings: CommonSettings) -> T:
    """`main`, with the dependencies probed beside it until it ends."""
    stop = asyncio.Event()
    probes = asyncio.create_task(
        run_probes(readiness, dependency_probes(settings), stop, interval_seconds=PROBE_INTERVAL_SECONDS)
    )
    try:
        return await main
    finally:
        stop.set()
        await probes
