"""Readings of the market from the explorer and the price API: now (a live snapshot) or for past slots from
their history (a backfill). A slot the history has nothing close to is reported missing with the reason,
never filled from another time.

Live: the price API's spot quote (price, 24 h volume, `last_updated_at`), the explorer's current hashrate and
difficulty, and the last block mined before now. History: the market-chart points nearest each slot (within
the tolerance; charts are fetched a day at a time, where the API gives 5-minute points), the difficulty in
effect at the slot (the last retarget at or before it), the explorer's hashrate estimate for the slot's UTC
day, and the last block mined at or before the slot.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from windhash_common.market_sources.explorer import ExplorerClient, period_covering
from windhash_common.market_sources.price_api import ChartPoints, PriceApiClient, nearest

from windhash_market.snapshot import MarketReading

_CHART_SPAN = timedelta(hours=23)  # within one day, where the API answers with 5-minute points


@dataclass(frozen=True)
class MissingHistory:
    reason: str


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
    ) -> dict[datetime, MarketReading | MissingHistory]:
        """A reading (or why there is none) for each of `slots`, oldest first, from the sources' history."""
        if not slots:
            return {}
        period = period_covering(slots[0].date(), today.date())
        adjustments = sorted(await self.explorer.difficulty_adjustments(period), key=lambda a: a.at)
        daily_hashrates = (await self.explorer.hashrate(period)).daily_hashrates_hs
        charts = await self._charts(slots, tolerance)
        found: dict[datetime, MarketReading | MissingHistory] = {}
        for slot in slots:
            usd, gbp = charts[slot]
            difficulty = next((a.difficulty for a in reversed(adjustments) if a.at <= slot), None)
            hashrate = next(
                (h for at, h in reversed(daily_hashrates) if at <= slot and slot - at < timedelta(days=1)),
                None,
            )
            usd_price, gbp_price = nearest(usd.prices, slot, tolerance), nearest(gbp.prices, slot, tolerance)
            volume = nearest(usd.volumes, slot, tolerance)
            if (
                usd_price is None
                or gbp_price is None
                or volume is None
                or difficulty is None
                or hashrate is None
            ):
                values = {"USD price": usd_price, "GBP price": gbp_price, "24 h volume": volume}
                values |= {"difficulty": difficulty, "hashrate": hashrate}
                missing = ", ".join(name for name, value in values.items() if value is None)
                found[slot] = MissingHistory(f"the sources' history has no {missing} for this slot")
                continue
            block = await self.explorer.block_at(slot)
            found[slot] = MarketReading(
                price_usd=usd_price,
                price_gbp=gbp_price,
                volume_24h_usd=volume,
                price_quoted_at=slot,
                hashrate_hs=hashrate,
                difficulty=difficulty,
                block_height=block.height,
                block_mined_at=block.mined_at,
                synthetic=self.synthetic,
            )
        return found

    async def _charts(
        self, slots: Sequence[datetime], tolerance: timedelta
    ) -> dict[datetime, tuple[ChartPoints, ChartPoints]]:
        """USD and GBP chart points around every slot, one pair of requests per day of slots."""
        by_slot = {}
        start = 0
        while start < len(slots):
            end = start
            while end + 1 < len(slots) and slots[end + 1] - slots[start] <= _CHART_SPAN:
                end += 1
            first, last = slots[start] - tolerance, slots[end] + tolerance
            pair = (await self.prices.chart("usd", first, last), await self.prices.chart("gbp", first, last))
            for slot in slots[start : end + 1]:
                by_slot[slot] = pair
            start = end + 1
        return by_slot
