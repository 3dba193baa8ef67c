"""Repairing a date, a range, a period or everything by replaying the settlement-period topic.

1. Read the topic from the beginning to its end offsets, keeping the latest event of each period in scope.
2. Re-fetch from Elexon (the `refetch.PeriodRefetcher` it is given: the ingestor's code, which publishes to
   the topic and records progress) only the ended periods the topic holds no event for, or whose last fetch
   failed or never happened; then read what that published.
3. Compare every period in scope with what replaying its latest event would write (`period_audit`) and
   replay, forced, the ones that differ through the calculator's write path (`replay_apply`).
4. Recompute the summaries of the replayed days, and of any day, month or year whose summaries drifted
   (`summary_repair`, with the aggregator's recompute from windhash_common.summaries).
Running it twice changes nothing the second time: every step compares before it writes.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import asyncpg
from windhash_common.curtailment_facts.rows import difficulty_date
from windhash_common.db import create_pool
from windhash_common.difficulty_store import open_difficulty_store
from windhash_common.miner_models import MinerModel, active_miner_models
from windhash_common.reconciliation.day_status import ReconciliationReport
from windhash_common.reconciliation.status_queries import data_dates, ended_periods, reconciliation_status
from windhash_common.settlement_calendar import dates_between, day_start_utc

from windhash_reconciler.period_audit import (
    differences,
    event_difficulty,
    expected_period,
    lead_parties,
    stored_day,
)
from windhash_reconciler.period_events import PeriodEvents, PeriodKey, TopicEvent, read_period_events
from windhash_reconciler.progress_hooks import RepairProgress, SilentProgress
from windhash_reconciler.refetch import FetchOutcome, PeriodRefetcher
from windhash_reconciler.replay_apply import force_apply
from windhash_reconciler.settings import ReconcilerSettings
from windhash_reconciler.summary_repair import SummaryRepair, repair_summaries

CLOCK_MARGIN = timedelta(days=1)


@dataclass(frozen=True)
class RepairScope:
    """Settlement dates `first..last`, or one period of `first` when `period` is set; all: no dates."""

    first: date | None = None
    last: date | None = None
    period: int | None = None

    def published_after(self) -> datetime | None:
        """No event of the scope can have been published before its first period began (a day of margin
        for producers' clocks), so the topic is read from there rather than from the beginning."""
        return None if self.first is None else day_start_utc(self.first) - CLOCK_MARGIN

    def wants(self, key: PeriodKey) -> bool:
        day, period = key
        in_dates = (self.first is None or day >= self.first) and (self.last is None or day <= self.last)
        return in_dates and (self.period is None or period == self.period)


@dataclass
class RepairReport:
    first: date | None
    last: date | None
    before: ReconciliationReport
    after: ReconciliationReport
    messages_read: int = 0
    refetched: list[FetchOutcome] = field(default_factory=list)
    replayed: dict[PeriodKey, list[str]] = field(default_factory=dict)
    not_in_topic: list[PeriodKey] = field(default_factory=list)
    summaries: SummaryRepair | None = None


async def _status(pool: asyncpg.Pool, first: date, last: date, now: datetime) -> ReconciliationReport:
    async with pool.acquire() as connection:
        return await reconciliation_status(connection, first, last, now)


async def _bounds(pool: asyncpg.Pool, scope: RepairScope, events: PeriodEvents) -> tuple[date, date] | None:
    if scope.first is not None and scope.last is not None:
        return scope.first, scope.last
    async with pool.acquire() as connection:
        held = await data_dates(connection)
    days = [key[0] for key in events.latest] + list(held or ())
    return (min(days), max(days)) if days else None


def _scope_keys(scope: RepairScope, first: date, last: date, now: datetime) -> list[PeriodKey]:
    return [
        (day, period)
        for day in dates_between(first, last)
        for period in ended_periods(day, now)
        if scope.wants((day, period))
    ]


async def _to_refetch(
    pool: asyncpg.Pool, keys: list[PeriodKey], events: PeriodEvents, first: date, last: date
) -> list[PeriodKey]:
    rows = await pool.fetch(
        "SELECT settlement_date, settlement_period FROM ingestion_progress"
        " WHERE settlement_date BETWEEN $1 AND $2 AND status = 'ok'",
        first,
        last,
    )
    fetched = {(row[0], row[1]) for row in rows}
    return [key for key in keys if key not in events.latest or key not in fetched]


async def refetch_periods(
    refetcher: PeriodRefetcher, keys: list[PeriodKey], progress: RepairProgress
) -> list[FetchOutcome]:
    """Fetch and publish these periods (progress recorded, failures kept failed)."""
    progress.start("re-fetching from Elexon", len(keys))
    return list(await refetcher.refetch(keys, "always", progress.advance))


@dataclass(frozen=True)
class ReplayInputs:
    """What the expected rows are computed from, read once per repair."""

    difficulties: dict[date, Decimal]
    models: list[MinerModel]
    parties: dict[str, str | None]


async def _replay_inputs(
    pool: asyncpg.Pool, settings: ReconcilerSettings, events: PeriodEvents
) -> ReplayInputs:
    async with open_difficulty_store(settings) as store:
        days = {difficulty_date(found.event.period_start_utc) for found in events.latest.values()}
        difficulties = await store.difficulties(days)
    async with pool.acquire() as connection:
        return ReplayInputs(
            difficulties, await active_miner_models(connection), await lead_parties(connection)
        )


async def _audit(
    pool: asyncpg.Pool,
    settings: ReconcilerSettings,
    keys: list[PeriodKey],
    events: PeriodEvents,
    inputs: ReplayInputs,
    progress: RepairProgress,
    report: RepairReport,
) -> list[TopicEvent]:
    """The latest events of the periods whose stored rows differ from what replaying them would write."""
    by_day: dict[date, list[PeriodKey]] = defaultdict(list)
    for key in keys:
        by_day[key[0]].append(key)
    progress.start("comparing periods with the topic", len(by_day))
    differing: list[TopicEvent] = []
    for day, day_keys in sorted(by_day.items()):
        async with pool.acquire() as connection:
            stored = await stored_day(connection, day, [model.name for model in inputs.models])
        for key in day_keys:
            found = events.latest.get(key)
            if found is None:
                if key[1] in stored.periods:
                    report.not_in_topic.append(key)
                continue
            difficulty = event_difficulty(found.event, inputs.difficulties)
            expected = expected_period(
                found.event, difficulty, inputs.models, inputs.parties, settings.halvings()
            )
            problems = differences(expected, stored, key[1])
            if problems:
                report.replayed[key] = problems
                differing.append(found)
        progress.advance()
    return differing


async def _apply(
    pool: asyncpg.Pool,
    settings: ReconcilerSettings,
    differing: list[TopicEvent],
    events: PeriodEvents,
    inputs: ReplayInputs,
    progress: RepairProgress,
) -> None:
    if not differing:
        return
    # Whatever was published while we compared replaces the snapshot about to be forced, so a repair never
    # writes an older snapshot over one the calculator has just applied from the topic.
    await read_period_events(
        settings.kafka,
        events.topic,
        lambda key: key in events.latest,
        settings.calculator_max_message_bytes,
        since=events,
    )
    latest = [events.latest[found.key] for found in differing]
    progress.start("replaying through the calculator", len(latest))
    size = settings.reconcile_periods_per_transaction
    for start in range(0, len(latest), size):
        chunk = latest[start : start + size]
        await force_apply(pool, chunk, settings, inputs.difficulties, settings.reconcile_db_attempts)
        progress.advance(len(chunk))


async def repair(
    settings: ReconcilerSettings,
    scope: RepairScope,
    refetcher: PeriodRefetcher,
    progress: RepairProgress | None = None,
    now: datetime | None = None,
) -> RepairReport | None:
    """Repair `scope`; None when there is nothing at all to reconcile (no data, no events)."""
    progress = progress or SilentProgress()
    now = now or datetime.now(UTC)
    pool = await create_pool(settings.database_url, min_size=1, max_size=4)
    try:
        topic = settings.topics.settlement_periods
        max_bytes = settings.calculator_max_message_bytes
        progress.start("reading the settlement-period topic", None)
        events = await read_period_events(
            settings.kafka, topic, scope.wants, max_bytes, published_after=scope.published_after()
        )
        bounds = await _bounds(pool, scope, events)
        if bounds is None:
            return None
        first, last = bounds
        before = await _status(pool, first, last, now)
        report = RepairReport(first, last, before=before, after=before)
        keys = _scope_keys(scope, first, last, now)
        refetch = await _to_refetch(pool, keys, events, first, last)
        if refetch:
            report.refetched = await refetch_periods(refetcher, refetch, progress)
            events = await read_period_events(settings.kafka, topic, scope.wants, max_bytes, events)
        report.messages_read = events.messages_read
        inputs = await _replay_inputs(pool, settings, events)
        differing = await _audit(pool, settings, keys, events, inputs, progress, report)
        await _apply(pool, settings, differing, events, inputs, progress)
        replayed_days = {key[0] for key in report.replayed}
        report.summaries = await repair_summaries(pool, first, last, replayed_days, progress)
        report.after = await _status(pool, first, last, now)
        return report
    finally:
        await pool.close()
