"""The daily self-check: revisions of the last days, the previous month reconciled, the rate exported.

`self_check(settings)` does one pass:
  1. re-fetches every ended period of the last `self_check_days` days before today with the ingestor's
     follow policy ("if_changed": published only when the content hash differs from the last publish), so a
     stack Elexon revised is republished and an unchanged one costs nothing downstream;
  2. when something was republished or the window is not complete, repairs the window by replay, so the
     revision is applied and the summaries follow even if no calculator is running;
  3. once per day (`reconcile_jobs`), reconciles the whole previous calendar month;
  4. sets `windhash_reconciliation_completeness_ratio`.

`locked_self_check` runs it only while holding the job lease `reconciler/self-check`
(windhash_common.job_leases, renewed while it runs): one instance works, every other one skips its turn and
tries again at its next interval. A crashed holder stops renewing and its lease expires; `windhash jobs` and
GET /api/v1/jobs show who holds it.
"""

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import asyncpg
import structlog
from windhash_common.db import create_pool, migrate_database
from windhash_common.job_leases import JobLease, run_while_holding
from windhash_common.reconciliation.status_queries import ended_periods, reconciliation_status
from windhash_common.settlement_calendar import dates_between, settlement_date_of
from windhash_common.summaries.summary_grains import month_start

from windhash_reconciler import metrics
from windhash_reconciler.period_events import PeriodKey
from windhash_reconciler.refetch import PeriodRefetcher
from windhash_reconciler.repair import RepairReport, RepairScope, repair
from windhash_reconciler.settings import ReconcilerSettings

log = structlog.get_logger(__name__)
SELF_CHECK_JOB = "reconciler/self-check"
MONTH_JOB = "previous_month"


@dataclass
class SelfCheckReport:
    first: date
    last: date
    fetch_outcomes: dict[str, int] = field(default_factory=dict)
    republished: list[PeriodKey] = field(default_factory=list)
    window_repair: RepairReport | None = None
    month_repair: RepairReport | None = None
    completeness_ratio: float = 1.0


@dataclass(frozen=True)
class LockedRun:
    ran: bool
    report: SelfCheckReport | None = None


def previous_month(today: date) -> tuple[date, date]:
    last = month_start(today) - timedelta(days=1)
    return month_start(last), last


def recheck_window(today: date, days: int) -> tuple[date, date]:
    return today - timedelta(days=days), today - timedelta(days=1)


async def _recheck_revisions(
    refetcher: PeriodRefetcher, first: date, last: date, now: datetime, report: SelfCheckReport
) -> None:
    keys = [(day, period) for day in dates_between(first, last) for period in ended_periods(day, now)]
    outcomes = await refetcher.refetch(keys, "if_changed")
    for outcome in outcomes:
        report.fetch_outcomes[outcome.status] = report.fetch_outcomes.get(outcome.status, 0) + 1
        if outcome.status == "published":
            report.republished.append((outcome.settlement_date, outcome.settlement_period))


async def _window_complete(settings: ReconcilerSettings, first: date, last: date, now: datetime) -> float:
    connection = await asyncpg.connect(settings.database_url)
    try:
        return (await reconciliation_status(connection, first, last, now)).completeness_ratio
    finally:
        await connection.close()


async def _month_due(settings: ReconcilerSettings, today: date) -> bool:
    connection = await asyncpg.connect(settings.database_url)
    try:
        last_run = await connection.fetchval(
            "SELECT last_run_on FROM reconcile_jobs WHERE job = $1", MONTH_JOB
        )
        return last_run is None or last_run < today
    finally:
        await connection.close()


async def _month_done(settings: ReconcilerSettings, today: date, result: RepairReport | None) -> None:
    summary = {} if result is None else {
        "first": str(result.first),
        "replayed": len(result.replayed),
        "refetched": len(result.refetched),
        "completeness_ratio": result.after.completeness_ratio,
    }  # fmt: skip
    connection = await asyncpg.connect(settings.database_url)
    try:
        await connection.execute(
            "INSERT INTO reconcile_jobs (job, last_run_on, last_result) VALUES ($1, $2, $3::jsonb)"
            " ON CONFLICT (job) DO UPDATE SET last_run_on = excluded.last_run_on,"
            " last_result = excluded.last_result, updated_at = now()",
            MONTH_JOB,
            today,
            json.dumps(summary),
        )
    finally:
        await connection.close()


def _replayed(result: RepairReport | None) -> int:
    return 0 if result is None else len(result.replayed)


async def self_check(
    settings: ReconcilerSettings, refetcher: PeriodRefetcher, now: datetime | None = None
) -> SelfCheckReport:
    now = now or datetime.now(UTC)
    today = settlement_date_of(now)
    await migrate_database(settings.database_url)
    first, last = recheck_window(today, settings.self_check_days)
    report = SelfCheckReport(first, last)
    await _recheck_revisions(refetcher, first, last, now, report)
    report.completeness_ratio = await _window_complete(settings, first, last, now)
    if report.republished or report.completeness_ratio < 1.0:
        report.window_repair = await repair(settings, RepairScope(first, last), refetcher, now=now)
        if report.window_repair is not None:
            report.completeness_ratio = report.window_repair.after.completeness_ratio
    metrics.COMPLETENESS.labels(window="recent").set(report.completeness_ratio)
    if settings.self_check_previous_month and await _month_due(settings, today):
        month_first, month_last = previous_month(today)
        report.month_repair = await repair(settings, RepairScope(month_first, month_last), refetcher, now=now)
        await _month_done(settings, today, report.month_repair)
        if report.month_repair is not None:
            metrics.COMPLETENESS.labels(window="previous_month").set(
                report.month_repair.after.completeness_ratio
            )
    log.info(
        "self_check",
        first=first.isoformat(),
        last=last.isoformat(),
        republished=len(report.republished),
        replayed=_replayed(report.window_repair) + _replayed(report.month_repair),
        completeness_ratio=report.completeness_ratio,
        **report.fetch_outcomes,
    )
    return report


async def locked_self_check(
    settings: ReconcilerSettings,
    refetcher: PeriodRefetcher,
    now: datetime | None = None,
    while_locked: Callable[[], Awaitable[None]] | None = None,
) -> LockedRun:
    """One self-check if no other instance is running one (the job lease `reconciler/self-check`, visible in
    `windhash jobs`); `while_locked` (tests) runs once the lease is held, before the work."""
    await migrate_database(settings.database_url)
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        lease = JobLease(pool, SELF_CHECK_JOB, settings.self_check_lease_seconds)
        done: list[SelfCheckReport] = []

        async def work() -> None:
            if while_locked is not None:
                await while_locked()
            done.append(await self_check(settings, refetcher, now))

        if not await run_while_holding(lease, work):
            log.info("self_check_skipped", reason="another instance holds the job")
            return LockedRun(ran=False)
        return LockedRun(ran=True, report=done[0])
    finally:
        await pool.close()


async def run_self_check_loop(
    settings: ReconcilerSettings, refetcher: PeriodRefetcher, stop: asyncio.Event
) -> None:
    """Every `self_check_interval_seconds` until `stop`: a self-check, by whichever instance gets the lock. A
    failed pass is logged and retried at the next interval; nothing it did not finish is lost, since every
    gap it would have repaired is still a gap."""
    while not stop.is_set():
        try:
            await locked_self_check(settings, refetcher)
        except Exception:
            log.exception("self_check_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.self_check_interval_seconds)
