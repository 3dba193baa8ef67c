"""The collector process: hold the leases of up to `fleet_max_shards` shards and poll each one held.

One loop per shard tries to take its lease (`fleet-collector/shard-N` in scheduler_locks) while this process
holds fewer shards than allowed; the shard is polled only while the lease is held, so two collectors never
poll the same miners (beyond the seconds a failed renewal takes to stop the work). A collector that dies stops
renewing; after the lease's time to live another collector with room takes its shards over.
To spread shards over N collectors set `fleet_max_shards` = shards / N; a larger value leaves spare room to
take over a dead peer's shards.
"""

import asyncio
import contextlib
import random

import asyncpg
import structlog
from windhash_common.db import create_pool, migrate_database
from windhash_common.job_leases import JobLease, LeaseLost, holder_identity, run_while_holding
from windhash_common.outbox_relay import run_relay
from windhash_common.service_loops import run_loops
from windhash_common.topics import ensure_topics

from windhash_fleet import metrics
from windhash_fleet.settings import FleetSettings
from windhash_fleet.shard_collector import SERVICE, ShardCollector, TelemetrySink
from windhash_fleet.telemetry_sink import KafkaTelemetrySink

log = structlog.get_logger(__name__)


def shard_job_key(shard: int) -> str:
    return f"fleet-collector/shard-{shard}"


class ShardHolder:
    """The shards this process holds, within its allowance."""

    def __init__(
        self, settings: FleetSettings, pool: asyncpg.Pool, sink: TelemetrySink, relay_wake: asyncio.Event
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.sink = sink
        self.relay_wake = relay_wake
        self.holder = holder_identity()
        self.held: set[int] = set()

    async def run(self, stop: asyncio.Event) -> None:
        """Every shard's loop, until `stop` is set."""
        work = asyncio.create_task(self._hold_every_shard())
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({work, stopped}, return_when=asyncio.FIRST_COMPLETED)
        for task in (work, stopped):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await work  # raises what ended it, unless it was the stop

    async def _hold_every_shard(self) -> None:
        async with asyncio.TaskGroup() as group:
            for shard in range(self.settings.fleet_shard_count):
                group.create_task(self.hold(shard))

    async def hold(self, shard: int) -> None:
        retry = self.settings.fleet_lease_ttl_s / 3
        while True:
            if len(self.held) < self.settings.shards_per_collector:
                await self._poll_while_held(shard)
            await asyncio.sleep(retry * random.uniform(0.5, 1.0))

    async def _poll_while_held(self, shard: int) -> None:
        self.held.add(
            shard
        )  # reserved before the lease is tried, so two loops never both go over the allowance
        metrics.SHARDS_HELD.set(len(self.held))
        lease = JobLease(self.pool, shard_job_key(shard), self.settings.fleet_lease_ttl_s, holder=self.holder)
        try:
            collector = ShardCollector(self.settings, self.pool, self.sink, shard, self.relay_wake)
            if await run_while_holding(lease, collector.run):
                log.info("shard work ended", shard=shard)
        except LeaseLost:
            log.warning("shard lease lost; polling stopped", shard=shard)
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("shard lease not taken", shard=shard, error=str(error))
        finally:
            self.held.discard(shard)
            metrics.SHARDS_HELD.set(len(self.held))


async def run_collector(settings: FleetSettings, stop: asyncio.Event) -> None:
    """The shards' polling and the outbox relay (the status changes' events), until `stop` is set."""
    await migrate_database(settings.database_url)
    await ensure_topics(settings.kafka, settings.topics, settings.topic_layout)
    pool = await create_pool(settings.database_url, max_size=4)
    sink = await KafkaTelemetrySink.start(settings.kafka, settings.topics)
    try:
        wake = asyncio.Event()
        holder = ShardHolder(settings, pool, sink, wake)
        log.info("fleet collector started", shards=settings.fleet_shard_count, holder=holder.holder)
        interval, batch = settings.fleet_relay_interval_s, settings.fleet_relay_batch
        relay = run_relay(SERVICE, pool, sink.broker, stop, wake, interval, batch)
        await run_loops({"shards": holder.run(stop), "relay": relay}, stop)
    finally:
        await sink.stop()
        await pool.close()
    log.info("fleet collector stopped")
