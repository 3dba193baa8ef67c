"""Follow mode, the ingestor service's loop: keep the recent past published and current.

Every `follow_poll_interval_seconds`: re-fetch every ended period of today and yesterday (Europe/London
settlement days), plus failed periods of the last `follow_retry_failed_days`. Every
`follow_revision_interval_seconds`, also re-fetch the `follow_revision_days` days before yesterday, since
Elexon revises stacks after the fact. A re-fetched period is published only when its content hash differs from
the last publish, so an unchanged stack costs nothing downstream and a revised one replaces its predecessor.
With `follow_wind_output`, each cycle then fetches yesterday's and today's wind output (wind_output.py), the
denominator of the curtailed share, so it stays as current as the curtailment.
"""

import asyncio
import contextlib
from datetime import UTC, date, datetime, timedelta

import structlog
from windhash_common.settlement_calendar import dates_between, settlement_date_of, settlement_periods

from windhash_ingestor.backfill import has_ended, run_periods
from windhash_ingestor.progress_store import PeriodKey
from windhash_ingestor.runtime import IngestorRuntime
from windhash_ingestor.settings import IngestorSettings
from windhash_ingestor.wind_output import ingest_wind_output

log = structlog.get_logger(__name__)


def follow_periods(
    now: datetime, settings: IngestorSettings, check_revisions: bool, failed: list[PeriodKey]
) -> list[PeriodKey]:
    """The periods one follow cycle re-fetches, oldest first, each once."""
    today = settlement_date_of(now)
    first = today - timedelta(days=1 + (settings.follow_revision_days if check_revisions else 0))
    wanted: set[PeriodKey] = {
        (day, period) for day in dates_between(first, today) for period in settlement_periods(day)
    }
    wanted.update(failed)
    return sorted(key for key in wanted if has_ended(key[0], key[1], now))


async def follow_cycle(runtime: IngestorRuntime, now: datetime, check_revisions: bool) -> dict[str, int]:
    settings = runtime.settings
    retry_from: date = settlement_date_of(now) - timedelta(days=settings.follow_retry_failed_days)
    failed = await runtime.progress.failed_since(retry_from)
    periods = follow_periods(now, settings, check_revisions, failed)
    ingestor = await runtime.period_ingestor()
    outcomes = await run_periods(ingestor, periods, "if_changed", settings.elexon_concurrency * 2)
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    if settings.follow_wind_output:
        today = settlement_date_of(now)
        wind = await ingest_wind_output(runtime.client, runtime.pool, today - timedelta(days=1), today)
        counts["wind_output_days_failed"] = len(wind.failed)
    log.info("follow_cycle", periods=len(periods), check_revisions=check_revisions, **counts)
    return counts


async def follow(runtime: IngestorRuntime, stop: asyncio.Event) -> None:
    """Run follow cycles until `stop` is set. A cycle that fails (database or Kafka down) is logged and the
    next one tries again: every period it did not finish is still missing or failed in ingestion_progress."""
    settings = runtime.settings
    last_revision_check: datetime | None = None
    while not stop.is_set():
        now = datetime.now(UTC)
        check_revisions = last_revision_check is None or (
            (now - last_revision_check).total_seconds() >= settings.follow_revision_interval_seconds
        )
        try:
            await follow_cycle(runtime, now, check_revisions)
            if check_revisions:
                last_revision_check = now
        except Exception:
            log.exception("follow_cycle_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.follow_poll_interval_seconds)
