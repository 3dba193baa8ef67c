"""Running the CRM's scheduled jobs: each under its own job lease (`windhash jobs crm/`), so one runner at a
time across every instance of the service; the others wait and take over when the holder stops renewing.

A run that fails (PostgreSQL away) is logged and counted, and the next runs after the interval: nothing a job
meets ends the service. The clock is injected, so tests run "tomorrow" without waiting for it.
"""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import structlog
from prometheus_client import Counter
from windhash_common.job_leases import JobLease, LeaseLost, run_while_holding

from windhash_crm import metrics
from windhash_crm.operations.scheduled import fire_activity_reminders, mark_overdue_invoices
from windhash_crm.settings import OVERDUE_JOB, REMINDER_JOB, CrmSettings

log = structlog.get_logger(__name__)
Clock = Callable[[], datetime]
Step = Callable[[asyncpg.Pool, CrmSettings, datetime], Awaitable[int]]
STEPS: dict[str, tuple[Step, Counter]] = {
    OVERDUE_JOB: (mark_overdue_invoices, metrics.INVOICES_MARKED_OVERDUE),
    REMINDER_JOB: (fire_activity_reminders, metrics.REMINDERS_FIRED),
}


def utc_now() -> datetime:
    return datetime.now(UTC)


async def run_step(job: str, pool: asyncpg.Pool, settings: CrmSettings, clock: Clock) -> int | None:
    """One run of `job`; the number of rows it changed, or None when it failed (logged and counted)."""
    step, changed = STEPS[job]
    try:
        count = await step(pool, settings, clock())
    except (OSError, asyncpg.PostgresError, TimeoutError):
        metrics.JOB_RUNS.labels(job, "failed").inc()
        log.exception("crm job failed; it runs again after the interval", job=job)
        return None
    metrics.JOB_RUNS.labels(job, "ok").inc()
    metrics.JOB_LAST_SUCCESS.labels(job).set(time.time())
    changed.inc(count)
    if count:
        log.info("crm job changed rows", job=job, count=count)
    return count


async def run_job(
    job: str, pool: asyncpg.Pool, settings: CrmSettings, stop: asyncio.Event, clock: Clock = utc_now
) -> None:
    """Until `stop`: hold `job`'s lease and run it every interval; without the lease, wait and try again."""
    lease = JobLease(pool, job, settings.crm_lease_ttl_seconds)
    while not stop.is_set():
        try:
            if not await run_while_holding(lease, lambda: _every_interval(job, pool, settings, stop, clock)):
                log.debug("crm job held by another process; waiting", job=job)
        except LeaseLost as error:
            log.warning("crm job lease lost; runs stopped", error=str(error))
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("crm job lease unavailable", job=job, error=str(error))
        await sleep_or_stop(stop, settings.crm_lease_ttl_seconds / 3)


async def _every_interval(
    job: str, pool: asyncpg.Pool, settings: CrmSettings, stop: asyncio.Event, clock: Clock
) -> None:
    metrics.JOB_LEASE_HELD.labels(job).set(1)
    try:
        while not stop.is_set():
            await run_step(job, pool, settings, clock)
            await sleep_or_stop(stop, settings.crm_job_interval_seconds)
    finally:
        metrics.JOB_LEASE_HELD.labels(job).set(0)


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.0))
