"""Readings of the market from the explorer and the price API: now (a live snapshot) or for past slots from
their history (a backfill). A slot the history has nothing close to is reported missing with the reason,
never filled from another time.

Live: the price API's spot quote (price, 24 h volume, `last_updated_at`), the explorer's current hashrate and
difficulty, and the last block mined before now. History: the market-chart points nearest each slot (within
the tolerance; charts are fetched a day at a time, where the API gives 5-minute points), the difficulty in
effect at the slot (the last retarget at or before it), the explorer's hashrate estimate for the slot's UTC
day, and the last block mined at or before the slot. What every slot of a backfill shares (the adjustments,
the hashrate history) failing fails the whole read; a slot's own reads (its day's charts, its block) failing
make only that slot's outcome.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from windhash_common.market_sources.explorer import ExplorerClient, period_covering
from windhash_common.market_sources.http_fetch import SourceError
from windhash_common.market_sources.price_api import ChartPoints, PriceApiClient, nearest

from windhash_market.snapshot import MarketReading

_CHART_SPAN = timedelta(hours=23)  # within one day, where the API answers with 5-minute points


@dataclass(frozen=True)
class MissingHistory:
    reason: str


@dataclass(frozen=True)
class HistoryReadings:
    """What the history says of each slot: a reading, or why there is none (the history lacks the slot, or a
    source failed after its retries on the slot's own reads: its chart day or its block)."""

    slots: dict[datetime, MarketReading | MissingHistory]
    failed_reads: int
    """Requests for one slot or one day of slots that failed after their retries."""


@dataclass(frozen=True)
class _SlotHistory:
    """A slot's values from the charts, the adjustments and the hashrate history (its block read apart)."""

    price_usd: Decimal
    price_gbp: Decimal
    volume_24h_usd: Decimal
    difficulty: Decimal
    hashrate_hs: Decimal


_Charts = tuple[ChartPoints, ChartPoints]


class MarketSources:
    def __init__(self, explorer: ExplorerClient, prices: PriceApiClient) -> None:
        self.explorer = explorer
        self.prices = prices

    @property
    def synthetic(self) -> bool:
        return self.explorer.synthetic or self.prices.synthetic

    async def read_now(self, now: datetime) -> MarketReading:
        quote = await self.prices.quote()
        hashrate = await self.explorer.hashrate("3d")
        block = await self.explorer.block_at(now)
        return MarketReading(
            price_usd=quote.usd,
            price_gbp=quote.gbp,
            volume_24h_usd=quote.volume_24h_usd,
            price_quoted_at=quote.quoted_at,
            hashrate_hs=hashrate.current_hashrate_hs,
            difficulty=hashrate.current_difficulty,
            block_height=block.height,
            block_mined_at=block.mined_at,
            synthetic=self.synthetic,
        )

    async def read_history(
        self, slots: Sequence[datetime], tolerance: timedelta, today: datetime
    ) -> HistoryReadings:
        """A reading (or why there is none) for each of `slots`, oldest first, from the sources' history.

        Raises SourceError when what every slot needs fails (the difficulty adjustments or the hashrate
        history of the period); a failure of one slot's own reads (its day's charts, its block) is that
        slot's outcome, and the other slots go on."""
        if not slots:
            return HistoryReadings({}, 0)
        period = period_covering(slots[0].date(), today.date())
        adjustments = sorted(await self.explorer.difficulty_adjustments(period), key=lambda a: a.at)
        daily_hashrates = (await self.explorer.hashrate(period)).daily_hashrates_hs
        charts, failed_reads = await self._charts(slots, tolerance)
        found: dict[datetime, MarketReading | MissingHistory] = {}
        for slot in slots:
            pair = charts[slot]
            if isinstance(pair, SourceError):
                found[slot] = MissingHistory(f"a source failed: {pair}")
                continue
            difficulty = next((a.difficulty for a in reversed(adjustments) if a.at <= slot), None)
            hashrate = next(
                (h for at, h in reversed(daily_hashrates) if at <= slot and slot - at < timedelta(days=1)),
                None,
            )
            values = _history_values(slot, pair, tolerance, difficulty, hashrate)
            if isinstance(values, MissingHistory):
                found[slot] = values
                continue
            try:
                block = await self.explorer.block_at(slot)
            except SourceError as error:
                failed_reads += 1
                found[slot] = MissingHistory(f"a source failed: {error}")
                continue
            found[slot] = MarketReading(
                price_usd=values.price_usd,
                price_gbp=values.price_gbp,
                volume_24h_usd=values.volume_24h_usd,
                price_quoted_at=slot,
                hashrate_hs=values.hashrate_hs,
                difficulty=values.difficulty,
                block_height=block.height,
                block_mined_at=block.mined_at,
                synthetic=self.synthetic,
            )
        return HistoryReadings(found, failed_reads)

    async def _charts(
        self, slots: Sequence[datetime], tolerance: timedelta
    ) -> tuple[dict[datetime, _Charts | SourceError], int]:
        """USD and GBP chart points around every slot, one pair of requests per day of slots; a day whose
        charts failed maps its slots to the error. Also returns how many days failed."""
        by_slot: dict[datetime, _Charts | SourceError] = {}
        failed = 0
        start = 0
        while start < len(slots):
            end = start
            while end + 1 < len(slots) and slots[end + 1] - slots[start] <= _CHART_SPAN:
                end += 1
            first, last = slots[start] - tolerance, slots[end] + tolerance
            pair: _Charts | SourceError
            try:
                pair = (
                    await self.prices.chart("usd", first, last),
                    await self.prices.chart("gbp", first, last),
                )
            except SourceError as error:
                failed += 1
                pair = error
            for slot in slots[start : end + 1]:
                by_slot[slot] = pair
            start = end + 1
        return by_slot, failed


def _history_values(
    slot: datetime,
    charts: _Charts,
    tolerance: timedelta,
    difficulty: Decimal | None,
    hashrate: Decimal | None,
) -> _SlotHistory | MissingHistory:
    """The slot's values from the history, or what the history lacks (never a value from another time)."""
    usd, gbp = charts
    usd_price, gbp_price = nearest(usd.prices, slot, tolerance), nearest(gbp.prices, slot, tolerance)
    volume = nearest(usd.volumes, slot, tolerance)
    if usd_price is None or gbp_price is None or volume is None or difficulty is None or hashrate is None:
        values = {"USD price": usd_price, "GBP price": gbp_price, "24 h volume": volume}
        values |= {"difficulty": difficulty, "hashrate": hashrate}
        missing = ", ".join(name for name, value in values.items() if value is None)
        return MissingHistory(f"the sources' history has no {missing} for this slot")
    return _SlotHistory(usd_price, gbp_price, volume, difficulty, hashrate)
