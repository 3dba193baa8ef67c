"""The ingestor's connections, opened once per run or service: PostgreSQL, Kafka and Elexon.

Opening also prepares what the ingestor relies on, all idempotent: the schema is migrated, the topics exist
and the wind BM unit registry is seeded from the packaged snapshot when empty.
"""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import asyncpg
from windhash_common.db import create_pool, migrate_database
from windhash_common.topics import ensure_topics

from windhash_ingestor.bm_unit_registry import seed_if_empty, wind_units_by_date
from windhash_ingestor.elexon_client import ElexonClient
from windhash_ingestor.event_sink import KafkaEventSink
from windhash_ingestor.period_ingest import PeriodIngestor
from windhash_ingestor.progress_store import PostgresProgressStore
from windhash_ingestor.settings import IngestorSettings


@dataclass
class IngestorRuntime:
    settings: IngestorSettings
    pool: asyncpg.Pool
    sink: KafkaEventSink
    client: ElexonClient
    progress: PostgresProgressStore

    async def period_ingestor(self) -> PeriodIngestor:
        """A period ingestor with the registry as it is now (a `bmunits sync` applies from the next call)."""
        registry = await wind_units_by_date(self.pool)
        if not registry.units:
            raise RuntimeError("the wind BM unit registry is empty: run `windhash bmunits seed` or `sync`")
        return PeriodIngestor(
            self.client, self.sink, self.progress, registry.units, counts_until=registry.counts_until
        )


@asynccontextmanager
async def open_runtime(settings: IngestorSettings) -> AsyncIterator[IngestorRuntime]:
    await migrate_database(settings.database_url)
    await ensure_topics(settings.kafka, settings.topics, settings.topic_layout)
    async with AsyncExitStack() as stack:
        pool = await create_pool(settings.database_url)
        stack.push_async_callback(pool.close)
        await seed_if_empty(pool)
        sink = await KafkaEventSink.start(settings.kafka, settings.topics)
        stack.push_async_callback(sink.stop)
        client = await stack.enter_async_context(ElexonClient(settings))
        progress = PostgresProgressStore(pool, settings.ingestor_db_attempts)
        yield IngestorRuntime(settings, pool, sink, client, progress)
