"""One cycle of the market service: the live snapshot of the current slot, the backfill of missed slots from
the sources' history, the day's difficulty and price written to the reference tables, the indicators.

Every path ends in a recorded outcome: a slot gets a snapshot (taken or backfilled), or is recorded refused
(with the reasons its values failed `reference_bounds`) or missed (a source failed on the slot's own reads, or
its history has nothing for the slot); a source failure is counted and the cycle goes on with its other steps.

Attempts (the rule the README states): every read of a slot's own data counts one attempt, whatever its
outcome: the live read, or the slot's part of the history (its day's charts, its block), ending in a snapshot,
a refusal, a gap in the history or a source failure after its retries. A failure of what every slot of the
backfill shares (the difficulty adjustments and hashrate history of the period) counts against no slot: none
of them was read. A missed or refused slot is tried again by the backfill until it has had
`market_slot_attempts` attempts, then stays a gap; so does a slot older than `market_backfill_hours`.
"""

import dataclasses
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta

import asyncpg
import structlog
from windhash_common.btc_prices import store_prices
from windhash_common.difficulty_store import DifficultyStore
from windhash_common.market_sources.explorer import period_covering
from windhash_common.market_sources.http_fetch import SourceError

from windhash_market import metrics
from windhash_market.indicators import IndicatorSeries, recompute
from windhash_market.queries import snapshots as queries
from windhash_market.settings import MarketSettings
from windhash_market.snapshot import (
    Freshness,
    MarketReading,
    Refusal,
    judge_reading,
    slot_start,
    slots_between,
)
from windhash_market.sources import MarketSources, MissingHistory

log = structlog.get_logger(__name__)
_RECENT = timedelta(days=1)
_MAX_BACKFILL_SLOTS = 192  # per cycle: two days of 15-minute slots
_SIGNAL_VALUE = {"BUY": 1, "NEUTRAL": 0, "SELL": -1}


def _now() -> datetime:
    return datetime.now(UTC)


class MarketCollector:
    def __init__(
        self,
        pool: asyncpg.Pool,
        sources: MarketSources,
        difficulties: DifficultyStore,
        settings: MarketSettings,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.pool = pool
        self.sources = sources
        self.difficulties = difficulties
        self.settings = settings
        self.clock = clock
        self.freshness = Freshness(
            timedelta(minutes=settings.market_max_price_age_minutes),
            timedelta(minutes=settings.market_max_block_age_minutes),
        )
        self._series: IndicatorSeries | None = None
        self._earliest_new: datetime | None = None

    async def run_cycle(self) -> None:
        now = self.clock()
        await self.take_live(now)
        await self.backfill(now)
        await self.keep_reference_current(now)
        await self.update_indicators()

    async def take_live(self, now: datetime) -> None:
        slot = slot_start(now, self.settings.interval)
        async with self.pool.acquire() as connection:
            if await queries.settled_slots(connection, slot, slot, self.settings.market_slot_attempts):
                return
        try:
            reading = await self.sources.read_now(now)
        except SourceError as error:
            metrics.SOURCE_ERRORS.labels("live").inc()
            await self._missed(slot, f"a source failed: {error}")
            return
        await self._decide(slot, reading, now, backfilled=False)

    async def backfill(self, now: datetime) -> None:
        """Slots of the last `market_backfill_hours` before the current one that have no snapshot yet."""
        interval = self.settings.interval
        last = slot_start(now, interval) - interval
        first = last - timedelta(hours=self.settings.market_backfill_hours) + interval
        if first > last:
            return
        async with self.pool.acquire() as connection:
            settled = await queries.settled_slots(connection, first, last, self.settings.market_slot_attempts)
        slots = [slot for slot in slots_between(first, last, interval) if slot not in settled]
        slots = slots[:_MAX_BACKFILL_SLOTS]
        if not slots:
            return
        tolerance = timedelta(minutes=self.settings.market_backfill_tolerance_minutes)
        try:
            history = await self.sources.read_history(slots, tolerance, now)
        except SourceError as error:
            # What every slot needs failed (the adjustments or the hashrate history): no slot's own read was
            # made, so none uses up an attempt; they are all tried again at the next cycle.
            metrics.SOURCE_ERRORS.labels("backfill").inc()
            log.warning("market backfill: a source failed", slots=len(slots), error=str(error))
            return
        metrics.SOURCE_ERRORS.labels("backfill").inc(history.failed_reads)
        for slot, reading in history.slots.items():
            if isinstance(reading, MissingHistory):
                await self._missed(slot, reading.reason)
            else:
                await self._decide(slot, reading, now, backfilled=True)

    async def _decide(
        self, slot: datetime, reading: MarketReading, collected_at: datetime, backfilled: bool
    ) -> None:
        async with self.pool.acquire() as connection:
            recent = await queries.recent_usd_prices(connection, slot, _RECENT)
            judged = judge_reading(
                slot, reading, collected_at, backfilled, self.freshness, recent, self.settings.halvings()
            )
            if isinstance(judged, Refusal):
                await queries.record_problem(connection, slot, "refused", judged.reason)
                metrics.SNAPSHOTS.labels("refused").inc()
                log.warning("market snapshot refused", slot=slot.isoformat(), reason=judged.reason)
                return
            if await queries.store_snapshot(connection, judged, self.settings.topics):
                metrics.SNAPSHOTS.labels("backfilled" if backfilled else "taken").inc()
                metrics.LAST_SNAPSHOT.set(max(metrics.LAST_SNAPSHOT._value.get(), slot.timestamp()))
                if self._earliest_new is None or slot < self._earliest_new:
                    self._earliest_new = slot

    async def _missed(self, slot: datetime, reason: str) -> None:
        async with self.pool.acquire() as connection:
            await queries.record_problem(connection, slot, "missed", reason)
        metrics.SNAPSHOTS.labels("missed").inc()
        log.warning("market slot missed", slot=slot.isoformat(), reason=reason[:300])

    async def keep_reference_current(self, now: datetime) -> None:
        """The last `market_reference_days` days' difficulty (DynamoDB) and daily price (`btc_prices`): only
        days not yet stored are written, a different stored value is reported and kept, an implausible one
        refused, so periods waiting for difficulty complete by themselves."""
        today = now.date()
        first = today - timedelta(days=self.settings.market_reference_days - 1)
        explorer = self.sources.explorer
        try:
            daily = await explorer.daily_difficulties(period_covering(first, today), today)
            wanted = {day: value for day, value in daily.items() if day >= first}
            label = "synthetic:" if explorer.synthetic else ""
            written = await self.difficulties.add_difficulties(wanted, f"{label}{self.settings.explorer_url}")
            self._count(
                "difficulty", len(written.written), len(written.unchanged), written.conflicts, written.refused
            )
        except SourceError as error:
            metrics.SOURCE_ERRORS.labels("reference").inc()
            log.warning("market: difficulty not refreshed", error=str(error))
        try:
            prices = await self.sources.prices.daily_prices(first, today)
        except SourceError as error:
            metrics.SOURCE_ERRORS.labels("reference").inc()
            log.warning("market: daily prices not refreshed", error=str(error))
            return
        if self.sources.prices.synthetic:
            prices = [dataclasses.replace(price, source="synthetic") for price in prices]
        async with self.pool.acquire() as connection, connection.transaction():
            stored = await store_prices(connection, prices, overwrite=False)
        self._count("price", len(stored.written), len(stored.unchanged), stored.conflicts, stored.refused)

    @staticmethod
    def _count(
        kind: str, written: int, unchanged: int, conflicts: Mapping[date, object], refused: Mapping[date, str]
    ) -> None:
        for outcome, count in (("written", written), ("unchanged", unchanged)):
            metrics.REFERENCE_WRITES.labels(kind, outcome).inc(count)
        metrics.REFERENCE_WRITES.labels(kind, "conflict").inc(len(conflicts))
        metrics.REFERENCE_WRITES.labels(kind, "refused").inc(len(refused))
        for day, stored_and_offered in conflicts.items():
            log.warning(
                f"market: stored {kind} kept", day=str(day), stored_and_offered=str(stored_and_offered)
            )
        for day, reason in refused.items():
            log.warning(f"market: {kind} refused", day=str(day), reason=reason)

    async def update_indicators(self) -> None:
        """Incrementally for snapshots after the last one the series has seen; from scratch on the first cycle
        (all rows rewritten, which also repairs a crash between a snapshot and its indicators) and when a
        snapshot was stored before the series' last one (a backfill: the rows from it on are rewritten)."""
        series, earliest_new = self._series, self._earliest_new
        async with self.pool.acquire() as connection:
            history = await queries.usd_price_series(connection)
            if history:  # also right after a restart, before this process stored anything
                metrics.LAST_SNAPSHOT.set(history[-1][0].timestamp())
            if (
                series is None
                or series.last_slot is None
                or (earliest_new and earliest_new <= series.last_slot)
            ):
                self._series, values = recompute(history)
                since = earliest_new if series is not None else None
                changed = [value for value in values if since is None or value.slot_at >= since]
            else:
                last = series.last_slot
                changed = [series.add(slot, price) for slot, price in history if slot > last]
            self._earliest_new = None
            if changed:
                await queries.upsert_indicators(connection, changed)
                metrics.SIGNAL.set(_SIGNAL_VALUE[changed[-1].signal])
