"""Keeping the half-hourly power prices current: Elexon's market index for the last days, every
`WINDHASH_PLANS_PRICE_SYNC_INTERVAL_S` (one worker at a time, lease `plans/prices`), and any range on demand
(`windhash plans prices sync`, for a backtest's history). A day Elexon cannot serve is an error, logged and
counted, never an empty day; a period without a price is left without one."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Self

import asyncpg
import structlog
from windhash_common.market_sources.http_fetch import SourceError
from windhash_common.settlement_calendar import settlement_date_of

from windhash_plans import metrics
from windhash_plans.market_index_client import SOURCE, DayPrices, MarketIndexClient
from windhash_plans.queries import prices as queries
from windhash_plans.settings import PlansSettings

log = structlog.get_logger(__name__)
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DaySynced:
    settlement_date: date
    stored: int
    changed: int
    missing: int


async def store_day(connection: asyncpg.Connection, day: DayPrices) -> int:
    """Write a day's prices; returns how many rows were new or changed."""
    prices = day.prices
    changed = await connection.fetchval(
        queries.UPSERT_PRICES,
        [p.settlement_date for p in prices],
        [p.settlement_period for p in prices],
        [p.start_time for p in prices],
        [p.price_gbp_per_mwh for p in prices],
        [p.volume_mwh for p in prices],
        [SOURCE] * len(prices),
        [day.synthetic] * len(prices),
    )
    return int(changed)


class PriceSync:
    def __init__(
        self, settings: PlansSettings, pool: asyncpg.Pool, client: MarketIndexClient, clock: Clock = _now
    ) -> None:
        self.settings, self.pool, self.client, self.clock = settings, pool, client, clock

    @classmethod
    @asynccontextmanager
    async def open(
        cls, settings: PlansSettings, pool: asyncpg.Pool, clock: Clock = _now
    ) -> AsyncIterator[Self]:
        async with MarketIndexClient(settings.elexon_base_url, settings.source_limits()) as client:
            yield cls(settings, pool, client, clock)

    async def sync(self, dates: Iterable[date]) -> list[DaySynced]:
        """Each date in turn; SourceError stops at the day that failed (the days before are stored)."""
        done = []
        for day in dates:
            prices = await self.client.day(day)
            async with self.pool.acquire() as connection:
                changed = await store_day(connection, prices)
            done.append(DaySynced(day, len(prices.prices), changed, len(prices.missing)))
        return done

    async def sync_recent(self) -> list[DaySynced]:
        today = settlement_date_of(self.clock())
        days = self.settings.plans_price_sync_days
        return await self.sync(today - timedelta(days=back) for back in range(days - 1, -1, -1))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                synced = await self.sync_recent()
                metrics.PRICE_SYNCS.labels("done").inc()
                log.info(
                    "power prices synced", days=[(s.settlement_date.isoformat(), s.stored) for s in synced]
                )
            except SourceError as error:
                metrics.PRICE_SYNCS.labels("failed").inc()
                log.warning("power prices could not be read from Elexon", error=str(error))
            except (OSError, asyncpg.PostgresError) as error:
                metrics.PRICE_SYNCS.labels("failed").inc()
                log.warning("power prices could not be stored", error=str(error))
            await self.report_age()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.plans_price_sync_interval_s)

    async def report_age(self) -> None:
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            async with self.pool.acquire() as connection:
                newest = await connection.fetchval(queries.NEWEST_PRICE)
            if newest is not None:
                metrics.POWER_PRICE_AGE_SECONDS.set((self.clock() - newest).total_seconds())
