"""Ingesting a range of settlement days (`windhash ingest date|range`): resumable, concurrent, reported.

Resumable: periods already ok in ingestion_progress are skipped unless `force`; failed and missing ones are
fetched. Periods that have not ended yet are reported as pending, not fetched: Elexon has nothing for them
yet, and an empty answer must not be recorded as a period without curtailment. A long range goes a month at
a time, so memory does not grow with its length.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from windhash_common.curtailment_facts.unstorable_periods import UnstorablePeriod, unstorable_between
from windhash_common.settlement_calendar import (
    dates_between,
    period_has_ended,
    settlement_periods,
    settlement_periods_in_day,
)
from windhash_common.settlement_range import date_chunks

from windhash_ingestor.ingest_report import DayReport, IngestReport, build_report, refused_as_failed
from windhash_ingestor.period_ingest import PeriodIngestor, PeriodOutcome, PublishPolicy
from windhash_ingestor.progress_store import PeriodKey, ProgressStore, ProgressUnavailable
from windhash_ingestor.runtime import IngestorRuntime, open_runtime
from windhash_ingestor.settings import IngestorSettings

OutcomeCallback = Callable[[PeriodOutcome], None]
PlanCallback = Callable[[int], None]
RefusalLookup = Callable[[date, date], Awaitable[Mapping[PeriodKey, UnstorablePeriod]]]
# A range is planned, fetched and reported this many days at a time.
CHUNK_DAYS = 31
# A report lists this many failed periods in full; every failure is counted in its day's row.
FAILURES_LISTED = 1000


has_ended = period_has_ended


def range_periods(first: date, last: date) -> list[PeriodKey]:
    if first > last:
        raise ValueError(f"the range starts ({first}) after it ends ({last})")
    return [(day, period) for day in dates_between(first, last) for period in settlement_periods(day)]


async def run_periods(
    ingestor: PeriodIngestor,
    periods: Sequence[PeriodKey],
    policy: PublishPolicy,
    workers: int,
    on_outcome: OutcomeCallback | None = None,
) -> list[PeriodOutcome]:
    """Ingest periods with `workers` in flight, oldest first; one outcome per period. Every ok is written to
    ingestion_progress before this returns (the store batches them: progress_store)."""
    todo = iter(periods)
    outcomes: list[PeriodOutcome] = []

    async def work() -> None:
        for day, period in todo:  # one iterator shared by the workers: each period is taken once
            outcome = await ingestor.ingest(day, period, policy)
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)

    try:
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(max(1, min(workers, len(periods)))):
                    group.create_task(work())
        except* ProgressUnavailable as unavailable:
            # Every worker meets the same lost database; one error says it (the rest are the same).
            raise unavailable.exceptions[0] from None
    except ProgressUnavailable:
        raise
    except BaseException:
        # Stopped (Ctrl-C) or broken: what Kafka acknowledged is still recorded ok, as far as PostgreSQL lets.
        with contextlib.suppress(Exception):
            await ingestor.progress.flush()
        raise
    await ingestor.progress.flush()
    return outcomes


async def ingest_periods_in_range(
    ingestor: PeriodIngestor,
    progress: ProgressStore,
    first: date,
    last: date,
    workers: int,
    force: bool = False,
    now: datetime | None = None,
    on_plan: PlanCallback | None = None,
    on_outcome: OutcomeCallback | None = None,
    refusals: RefusalLookup | None = None,
) -> IngestReport:
    """Every period from `first` to `last`, a chunk of `CHUNK_DAYS` days at a time: memory holds one chunk's
    periods, progress rows and outcomes (and one small DayReport per day) however long the range. A period
    `refusals` names (the calculator refused it: its figures cannot be stored) is reported failed."""
    if first > last:
        raise ValueError(f"the range starts ({first}) after it ends ({last})")
    now = now or datetime.now(UTC)
    if on_plan is not None:
        on_plan(sum(settlement_periods_in_day(day) for day in dates_between(first, last)))
    days: list[DayReport] = []
    failures: list[PeriodOutcome] = []
    for chunk in date_chunks(first, last, CHUNK_DAYS):
        outcomes = await _ingest_chunk(
            ingestor, progress, chunk.first, chunk.last, workers, force, now, on_outcome
        )
        if refusals is not None:
            outcomes = refused_as_failed(outcomes, await refusals(chunk.first, chunk.last))
        report = build_report(chunk.first, chunk.last, outcomes)
        days.extend(report.days)
        failures.extend(report.failures[: FAILURES_LISTED - len(failures)])
    return IngestReport(first, last, tuple(days), tuple(failures))


async def _ingest_chunk(
    ingestor: PeriodIngestor,
    progress: ProgressStore,
    first: date,
    last: date,
    workers: int,
    force: bool,
    now: datetime,
    on_outcome: OutcomeCallback | None,
) -> list[PeriodOutcome]:
    done = {} if force else await progress.rows_between(first, last)
    settled: list[PeriodOutcome] = []
    todo: list[PeriodKey] = []
    for day, period in range_periods(first, last):
        previous = done.get((day, period))
        if not has_ended(day, period, now):
            settled.append(PeriodOutcome(day, period, "pending"))
        elif previous is not None and previous.status == "ok":
            energy = previous.energy_mwh if previous.energy_mwh is not None else Decimal(0)
            count = previous.record_count or 0
            settled.append(PeriodOutcome(day, period, "skipped", count, energy, previous.content_hash))
        else:
            todo.append((day, period))
    if on_outcome is not None:
        for outcome in settled:
            on_outcome(outcome)
    fetched = await run_periods(ingestor, todo, "always", workers, on_outcome)
    return [*settled, *fetched]


async def ingest_range_with(
    runtime: IngestorRuntime,
    first: date,
    last: date,
    force: bool = False,
    on_plan: PlanCallback | None = None,
    on_outcome: OutcomeCallback | None = None,
) -> IngestReport:
    ingestor = await runtime.period_ingestor()
    workers = runtime.settings.elexon_concurrency * 2

    async def refusals(chunk_first: date, chunk_last: date) -> Mapping[PeriodKey, UnstorablePeriod]:
        return await unstorable_between(runtime.pool, chunk_first, chunk_last)

    return await ingest_periods_in_range(
        ingestor, runtime.progress, first, last, workers, force,
        on_plan=on_plan, on_outcome=on_outcome, refusals=refusals,
    )  # fmt: skip


async def ingest_range(
    settings: IngestorSettings,
    first: date,
    last: date,
    force: bool = False,
    on_plan: PlanCallback | None = None,
    on_outcome: OutcomeCallback | None = None,
) -> IngestReport:
    """Ingest every settlement period from `first` to `last` (both included) and report what happened.
    Failed periods are in `report.failures` (and in ingestion_progress); this does not raise for them."""
    async with open_runtime(settings) as runtime:
        return await ingest_range_with(runtime, first, last, force, on_plan, on_outcome)
