"""Correcting stored reference data (a day's difficulty or BTC price): every change is audited (who, why, old,
new: `audit_log`, actions `difficulty.correct` and `prices.correct`) and exactly what it affects is
recalculated by replay.

- **Difficulty** (DynamoDB, so the audit rows follow the write in their own transaction): every running
  process re-reads a difficulty after `difficulty_cache_seconds`, which this waits out, so no calculator still
  uses the old value; then the reconciler's repair (`windhash_reconciler.repair`) replays from the
  settlement-period topic, through the calculator's write path, the periods whose stored figures differ from
  what the corrected value gives: those starting (UTC) on a corrected day, of settlement dates D and D+1 (in
  summer a settlement day begins at 23:00 UTC the day before); and it recomputes the summaries of the days it
  replayed and of their months and years. Nothing is fetched from Elexon.
- **Price** (PostgreSQL: the write and its audit rows in one transaction): no period depends on a price, so
  the summaries of the corrected days, their months and years, are recomputed (value_gbp and value_usd).
"""

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import asyncpg
from windhash_common.audit import cli_actor, record_audit
from windhash_common.btc_prices import DailyPrice
from windhash_common.settings import CommonSettings
from windhash_reconciler.progress_hooks import SilentProgress
from windhash_reconciler.refetch import FetchOutcome, FetchPolicy, PeriodKey
from windhash_reconciler.repair import RepairReport, RepairScope, repair
from windhash_reconciler.settings import ReconcilerSettings
from windhash_reconciler.summary_repair import SummaryRepair, repair_summaries

DIFFICULTY_CORRECTED = "difficulty.correct"
PRICE_CORRECTED = "prices.correct"


class NoRefetch:
    """A correction replays what the topic holds and never fetches from Elexon."""

    async def refetch(
        self, keys: Sequence[PeriodKey], policy: FetchPolicy, on_outcome: Callable[[], None] | None = None
    ) -> Sequence[FetchOutcome]:
        return []


@dataclass(frozen=True)
class Recalculated:
    periods: list[PeriodKey]
    summary_days: list[date]


def affected_settlement_spans(days: Sequence[date]) -> list[tuple[date, date]]:
    """The settlement dates whose periods can start (UTC) on these days, D and D+1 each, as disjoint spans."""
    spans: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if spans and day <= spans[-1][1] + timedelta(days=1):
            spans[-1] = (spans[-1][0], day + timedelta(days=1))
        else:
            spans.append((day, day + timedelta(days=1)))
    return spans


async def audit_difficulty_changes(
    settings: CommonSettings, changes: Mapping[date, tuple[Decimal | None, Decimal]], reason: str, source: str
) -> None:
    """One audit row per changed day (old None: the day had no difficulty), in one transaction."""
    connection = await asyncpg.connect(settings.database_url)
    try:
        async with connection.transaction():
            for day, (old, new) in sorted(changes.items()):
                await record_audit(
                    connection, settings.topics, cli_actor(), DIFFICULTY_CORRECTED, "difficulty",
                    day.isoformat(), None if old is None else {"difficulty": old},
                    {"difficulty": new, "reason": reason, "source": source},
                )  # fmt: skip
    finally:
        await connection.close()


async def recalculate_difficulty_days(days: Sequence[date], settings: ReconcilerSettings) -> Recalculated:
    """After `difficulty_cache_seconds`, replay the periods of the corrected days whose figures changed and
    recompute their summaries (see the module docstring)."""
    await asyncio.sleep(settings.difficulty_cache_seconds)
    periods: list[PeriodKey] = []
    summary_days: list[date] = []
    for first, last in affected_settlement_spans(days):
        report: RepairReport | None = await repair(settings, RepairScope(first, last), NoRefetch())
        if report is not None:
            periods += sorted(report.replayed)
            summary_days += report.summaries.days if report.summaries else ()
    return Recalculated(periods, sorted(set(summary_days)))


def _price_state(price: DailyPrice) -> dict[str, object]:
    return {"gbp": price.gbp, "usd": price.usd, "source": price.source}


async def audit_price_changes(
    connection: asyncpg.Connection,
    settings: CommonSettings,
    changes: Mapping[date, tuple[DailyPrice | None, DailyPrice]],
    reason: str,
) -> None:
    """One audit row per changed day, in the caller's transaction (the one that wrote the prices)."""
    for day, (old, new) in sorted(changes.items()):
        await record_audit(
            connection, settings.topics, cli_actor(), PRICE_CORRECTED, "btc_price", day.isoformat(),
            None if old is None else _price_state(old), {**_price_state(new), "reason": reason},
        )  # fmt: skip


async def recompute_price_days(pool: asyncpg.Pool, days: Sequence[date]) -> SummaryRepair | None:
    """Recompute the summaries (and their months and years) of days whose price changed."""
    if not days:
        return None
    return await repair_summaries(pool, min(days), max(days), days, SilentProgress())
