"""History that matches the wind BM unit registry after it changed (issue #21, item 9).

The ingestor keeps only wind units' rows in the snapshots it publishes, so the stored snapshots of a period
never hold a unit the registry did not list when the period was fetched: a unit added later, or withdrawn
from a date already held, or listed again after a withdrawal, needs the affected periods fetched again. Every
held period from the first date the change can touch (all of history for an added unit, the withdrawal date
on for a withdrawn one, the date it had stopped counting from for one listed again) is re-fetched with the
registry as it is now, under the follow policy `if_changed`: only the periods whose wind records changed
(those where the added unit was curtailed, or the withdrawn one no longer counts or counts again) are
published, and the calculator and the aggregator replace them as they replace any
revision. Nothing is forced and nothing else is republished.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime

import asyncpg
from windhash_common.settlement_range import date_chunks

from windhash_ingestor.backfill import CHUNK_DAYS, OutcomeCallback, has_ended, range_periods, run_periods
from windhash_ingestor.runtime import IngestorRuntime

_HELD_DATES = "SELECT min(settlement_date), max(settlement_date) FROM ingestion_progress WHERE status = 'ok'"


@dataclass(frozen=True)
class HistoryRefresh:
    first: date | None
    last: date | None
    periods: int
    published: int
    unchanged: int
    failed: int


async def held_dates(pool: asyncpg.Pool) -> tuple[date, date] | None:
    """The first and last settlement date with a period fetched ok."""
    row = await pool.fetchrow(_HELD_DATES)
    if row is None or row[0] is None:
        return None
    return row[0], row[1]


def refresh_start(
    held: tuple[date, date] | None,
    added: bool,
    withdrawn_from: date | None,
    relisted_from: date | None = None,
) -> date | None:
    """The first held date a registry change can touch: all of history for an added unit, the withdrawal
    date on for a withdrawn one, the date a unit listed again had stopped counting from; None when nothing
    held is touched."""
    if held is None:
        return None
    starts = [held[0]] if added else []
    for since in (withdrawn_from, relisted_from):
        if since is not None and since <= held[1]:
            starts.append(max(since, held[0]))
    return min(starts) if starts else None


async def refresh_history(
    runtime: IngestorRuntime, first: date, last: date, on_outcome: OutcomeCallback | None = None
) -> HistoryRefresh:
    """Re-fetch every ended period of `first..last`, publishing those whose wind records changed."""
    ingestor = await runtime.period_ingestor()
    workers = runtime.settings.elexon_concurrency * 2
    now = datetime.now(UTC)
    statuses: Counter[str] = Counter()
    for chunk in date_chunks(first, last, CHUNK_DAYS):
        periods = [key for key in range_periods(chunk.first, chunk.last) if has_ended(*key, now)]
        outcomes = await run_periods(ingestor, periods, "if_changed", workers, on_outcome)
        statuses.update(outcome.status for outcome in outcomes)
    return HistoryRefresh(
        first,
        last,
        statuses.total(),
        statuses["published"],
        statuses["unchanged"],
        statuses["failed"],
    )
