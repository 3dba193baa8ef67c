"""Pruning the outbox: rows published (or set aside as failed) more than `retention_days` ago are deleted, in
batches, by one runner at a time (the job lease `outbox/prune`, visible in `windhash jobs` and
GET /api/v1/jobs). Pending rows are never touched. Every service that runs a relay runs this loop; whichever
holds the lease does the work.
"""

import asyncio
import contextlib

import asyncpg
import structlog
from prometheus_client import Counter

from windhash_common.dependency_retries import POSTGRESQL, through_outages
from windhash_common.job_leases import JobLease, LeaseLost, run_while_holding
from windhash_common.readiness import Readiness
from windhash_common.settings import CommonSettings

log = structlog.get_logger(__name__)
PRUNE_JOB = "outbox/prune"
_BATCH = 10_000
_LEASE_TTL_SECONDS = 120.0

OUTBOX_PRUNED = Counter("windhash_outbox_pruned_total", "Settled outbox rows deleted after the retention")

PRUNE = """
DELETE FROM outbox WHERE id IN (
    SELECT id FROM outbox
     WHERE status <> 'pending' AND coalesce(published_at, failed_at) < now() - make_interval(days => $1)
     LIMIT $2
)
"""


async def prune_outbox(pool: asyncpg.Pool, retention_days: int) -> int:
    """Delete every settled row older than the retention, a batch per transaction; returns how many."""
    deleted = 0
    while True:
        async with pool.acquire() as connection:
            status = await connection.execute(PRUNE, retention_days, _BATCH)
        count = int(status.split()[-1])
        deleted += count
        if count < _BATCH:
            return deleted


async def run_outbox_pruning(
    pool: asyncpg.Pool,
    stop: asyncio.Event,
    retention_days: int,
    interval_seconds: float,
    readiness: Readiness | None = None,
) -> None:
    """Until `stop`: every interval, prune if this process gets the job's lease (one runner at a time)."""
    OUTBOX_PRUNED.inc(0)
    while not stop.is_set():

        async def prune_once() -> None:
            async def work() -> None:
                deleted = await prune_outbox(pool, retention_days)
                OUTBOX_PRUNED.inc(deleted)
                if deleted:
                    log.info("outbox pruned", rows=deleted, retention_days=retention_days)

            lease = JobLease(pool, PRUNE_JOB, _LEASE_TTL_SECONDS)
            with contextlib.suppress(LeaseLost):
                await run_while_holding(lease, work)

        await through_outages(prune_once, "prune the outbox", [POSTGRESQL], readiness=readiness)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)


async def run_configured_outbox_pruning(
    pool: asyncpg.Pool, settings: CommonSettings, stop: asyncio.Event, readiness: Readiness | None = None
) -> None:
    """`run_outbox_pruning` with the retention and interval of the service's settings."""
    await run_outbox_pruning(
        pool, stop, settings.outbox_retention_days, settings.outbox_prune_interval_seconds, readiness
    )
