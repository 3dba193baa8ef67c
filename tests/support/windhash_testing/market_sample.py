"""Synthetic market snapshots for the tests of the market's HTTP routes and dashboard panel. For each slot,
the synthetic market server's own values (windhash_market_sim.generator), judged by the market service's
own rule (`snapshot.judge_reading`) and stored through its own write path (`store_snapshot`), with its
indicators recomputed from the series: every route reads exactly what the service would have written.
"""

from collections.abc import Collection
from datetime import datetime, timedelta
from decimal import Decimal

import asyncpg
from windhash_common.bitcoin import halving_schedule
from windhash_common.topics import Topics
from windhash_market.indicators import recompute
from windhash_market.queries.snapshots import store_snapshot, upsert_indicators, usd_price_series
from windhash_market.snapshot import Freshness, MarketReading, MarketSnapshot, judge_reading
from windhash_market_sim.generator import (
    DEFAULT_SEED,
    block_time,
    difficulty_at,
    hashrate_hs,
    height_at,
    price_gbp,
    price_usd,
    volume_usd,
)

SLOT = timedelta(minutes=15)
_FRESH = Freshness(timedelta(minutes=30), timedelta(hours=3))


def sample_reading(at: datetime, seed: int = DEFAULT_SEED) -> MarketReading:
    height = height_at(at)
    return MarketReading(
        price_usd=price_usd(seed, at),
        price_gbp=price_gbp(seed, at),
        volume_24h_usd=volume_usd(seed, at),
        price_quoted_at=at,
        hashrate_hs=hashrate_hs(seed, at),
        difficulty=difficulty_at(seed, at),
        block_height=height,
        block_mined_at=block_time(height),
        synthetic=True,
    )


async def load_market_sample(
    connection: asyncpg.Connection,
    first: datetime,
    slots: int,
    gaps: Collection[int] = (),
    topics: Topics | None = None,
) -> list[MarketSnapshot]:
    """Snapshots of `slots` consecutive 15-minute slots from `first` (a slot start), but the indexes in
    `gaps`, with their indicators. Returns what was stored, oldest first."""
    topics = topics or Topics(prefix="market-sample")
    stored: list[MarketSnapshot] = []
    recent: list[Decimal] = []
    for index in range(slots):
        if index in gaps:
            continue
        slot = first + SLOT * index
        judged = judge_reading(
            slot, sample_reading(slot), slot, True, _FRESH, recent[-96:][::-1], halving_schedule()
        )
        if not isinstance(judged, MarketSnapshot):
            raise AssertionError(f"the synthetic sample was refused at {slot}: {judged.reason}")
        await store_snapshot(connection, judged, topics)
        stored.append(judged)
        recent.append(judged.price_usd)
    _, values = recompute(await usd_price_series(connection))
    if values:
        await upsert_indicators(connection, values)
    return stored
