"""The telemetry maintenance job: one runner at a time (the `fleet-telemetry/maintenance` lease), every
`fleet_maintenance_interval_s`:
- `miner_telemetry`'s partitions of today and the next `fleet_partition_days_ahead` days exist, and those
  of days older than `fleet_telemetry_retention_days` are dropped whole (never a row DELETE);
- the operation log keeps a year (`fleet_operation_log_retention_days`) and the per-miner hourly rollups
  `fleet_miner_hourly_retention_days`: older rows are deleted (a few thousand a day, unlike the telemetry).
Every writer runs this loop; whichever holds the lease does the work, another takes over when it dies.
"""

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import asyncpg
import structlog
from windhash_common.job_leases import JobLease, LeaseLost, run_while_holding

from windhash_fleet import writer_metrics as metrics
from windhash_fleet.settings import FleetSettings
from windhash_fleet.telemetry_partitions import PartitionMaintenance, maintain_partitions, partition_days

log = structlog.get_logger(__name__)
JOB_KEY = "fleet-telemetry/maintenance"
PRUNE_LOG = "DELETE FROM miner_operation_log WHERE performed_at < $1"
PRUNE_MINER_HOURS = "DELETE FROM miner_telemetry_hourly WHERE hour < $1"
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class MaintenanceReport:
    partitions: PartitionMaintenance
    log_rows_pruned: int
    miner_hours_pruned: int
    partition_days: list[date]


def _deleted(status: str) -> int:
    return int(status.split()[-1])


async def maintain_once(
    connection: asyncpg.Connection, settings: FleetSettings, now: datetime
) -> MaintenanceReport:
    """One run; also what `windhash fleet partitions` does by hand."""
    today = now.astimezone(UTC).date()
    done = await maintain_partitions(
        connection, today, settings.fleet_partition_days_ahead, settings.fleet_telemetry_retention_days
    )
    log_cutoff = now - timedelta(days=settings.fleet_operation_log_retention_days)
    hours_cutoff = now - timedelta(days=settings.fleet_miner_hourly_retention_days)
    pruned_log = _deleted(await connection.execute(PRUNE_LOG, log_cutoff))
    pruned_hours = _deleted(await connection.execute(PRUNE_MINER_HOURS, hours_cutoff))
    days = await partition_days(connection)
    metrics.PARTITIONS.set(len(days))
    metrics.PARTITION_DAYS_AHEAD.set((days[-1] - today).days if days else -1)
    return MaintenanceReport(done, pruned_log, pruned_hours, days)


async def run_maintenance(
    pool: asyncpg.Pool, settings: FleetSettings, stop: asyncio.Event, clock: Clock
) -> None:
    """Until `stop`: hold the job's lease when free, and run the job every interval while holding it."""
    lease = JobLease(pool, JOB_KEY, settings.fleet_lease_ttl_s)
    while not stop.is_set():
        try:
            if not await run_while_holding(lease, lambda: _every_interval(pool, settings, stop, clock)):
                log.debug("maintenance held by another writer", job=JOB_KEY)
        except LeaseLost:
            log.warning("maintenance lease lost; the job stopped", job=JOB_KEY)
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("maintenance lease unavailable", error=str(error))
        await _sleep_or_stop(stop, settings.fleet_lease_ttl_s / 3)


async def _every_interval(
    pool: asyncpg.Pool, settings: FleetSettings, stop: asyncio.Event, clock: Clock
) -> None:
    metrics.MAINTENANCE_HELD.set(1)
    try:
        while not stop.is_set():
            await _run_once(pool, settings, clock)
            await _sleep_or_stop(stop, settings.fleet_maintenance_interval_s)
    finally:
        metrics.MAINTENANCE_HELD.set(0)


async def _run_once(pool: asyncpg.Pool, settings: FleetSettings, clock: Clock) -> None:
    try:
        async with pool.acquire() as connection, connection.transaction():
            report = await maintain_once(connection, settings, clock())
    except (OSError, asyncpg.PostgresError) as error:
        metrics.MAINTENANCE_RUNS.labels("failed").inc()
        log.warning("telemetry maintenance failed; the next run retries", error=str(error))
        return
    metrics.MAINTENANCE_RUNS.labels("done").inc()
    metrics.MAINTENANCE_LAST_SUCCESS.set(time.time())
    log.info(
        "telemetry maintenance",
        created=report.partitions.created,
        dropped=list(report.partitions.dropped),
        log_rows_pruned=report.log_rows_pruned,
        miner_hours_pruned=report.miner_hours_pruned,
        partitions=len(report.partition_days),
    )


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.0))
