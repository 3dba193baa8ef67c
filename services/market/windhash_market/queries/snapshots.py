"""SQL of the snapshots (`market_analytics`), the slots' outcomes (`market_slots`) and the indicators
(`technical_indicators`), migration 1100.

A snapshot and its event are written in one transaction: the row and an `outbox` row
(`windhash_common.outbox`), which the market service's own relay publishes (`windhash_common.outbox_relay`).
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import asyncpg
from windhash_common.outbox import add_to_outbox, outbox_message
from windhash_common.topics import Topics

from windhash_market.indicators import IndicatorValues
from windhash_market.snapshot import MarketSnapshot

INSERT_SNAPSHOT = """
INSERT INTO market_analytics (slot_at, price_usd, price_gbp, volume_24h_usd, hashrate_ehs, difficulty,
    block_height, block_reward_btc, price_quoted_at, block_mined_at, collected_at, backfilled, synthetic)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (slot_at) DO NOTHING
RETURNING slot_at
"""

# A slot's outcome; one that has a snapshot is final, a problem counts its attempts.
RECORD_SLOT = """
INSERT INTO market_slots AS slot (slot_at, status, reason) VALUES ($1, $2, $3)
ON CONFLICT (slot_at) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason,
    attempts = slot.attempts + 1, updated_at = now()
WHERE slot.status NOT IN ('taken', 'backfilled')
"""

SLOTS_SETTLED = """
SELECT slot_at FROM market_analytics WHERE slot_at BETWEEN $1 AND $2
UNION
SELECT slot_at FROM market_slots WHERE slot_at BETWEEN $1 AND $2 AND attempts >= $3
"""

RECENT_USD = """
SELECT price_usd FROM market_analytics WHERE slot_at < $1 AND slot_at >= $1::timestamptz - $2::interval
ORDER BY slot_at DESC LIMIT 96
"""

PRICE_SERIES = "SELECT slot_at, price_usd FROM market_analytics ORDER BY slot_at"

LATEST_INDICATOR_SLOT = "SELECT max(slot_at) FROM technical_indicators"

UPSERT_INDICATORS = """
INSERT INTO technical_indicators (slot_at, rsi_14, macd, macd_signal, macd_histogram, bb_upper, bb_middle,
    bb_lower, ema_12, ema_26, signal, computed_at)
SELECT *, now() FROM unnest($1::timestamptz[], $2::float8[], $3::float8[], $4::float8[], $5::float8[],
    $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::text[])
ON CONFLICT (slot_at) DO UPDATE SET rsi_14 = EXCLUDED.rsi_14, macd = EXCLUDED.macd,
    macd_signal = EXCLUDED.macd_signal, macd_histogram = EXCLUDED.macd_histogram,
    bb_upper = EXCLUDED.bb_upper, bb_middle = EXCLUDED.bb_middle, bb_lower = EXCLUDED.bb_lower,
    ema_12 = EXCLUDED.ema_12,
    ema_26 = EXCLUDED.ema_26, signal = EXCLUDED.signal, computed_at = now()
"""


async def store_snapshot(connection: asyncpg.Connection, snapshot: MarketSnapshot, topics: Topics) -> bool:
    """Row, slot outcome and outbox event in one transaction; False when the slot already had a snapshot."""
    async with connection.transaction():
        inserted = await connection.fetchval(
            INSERT_SNAPSHOT,
            snapshot.slot_at,
            snapshot.price_usd,
            snapshot.price_gbp,
            snapshot.volume_24h_usd,
            snapshot.hashrate_ehs,
            snapshot.difficulty,
            snapshot.block_height,
            snapshot.block_reward_btc,
            snapshot.price_quoted_at,
            snapshot.block_mined_at,
            snapshot.collected_at,
            snapshot.backfilled,
            snapshot.synthetic,
        )
        if inserted is None:
            return False
        status = "backfilled" if snapshot.backfilled else "taken"
        await connection.execute(RECORD_SLOT, snapshot.slot_at, status, None)
        event = snapshot.event()
        await add_to_outbox(connection, [outbox_message(topics.market_snapshots, event, event.kafka_key)])
    return True


async def record_problem(connection: asyncpg.Connection, slot_at: datetime, status: str, reason: str) -> None:
    """A refused or missed slot, with the reason (a slot that has a snapshot keeps it)."""
    await connection.execute(RECORD_SLOT, slot_at, status, reason[:2000])


async def settled_slots(
    connection: asyncpg.Connection, first: datetime, last: datetime, max_attempts: int
) -> set[datetime]:
    """Slots in [first, last] that have a snapshot or were tried `max_attempts` times."""
    return {row[0] for row in await connection.fetch(SLOTS_SETTLED, first, last, max_attempts)}


async def recent_usd_prices(
    connection: asyncpg.Connection, before: datetime, within: timedelta
) -> list[Decimal]:
    return [row[0] for row in await connection.fetch(RECENT_USD, before, within)]


async def usd_price_series(connection: asyncpg.Connection) -> list[tuple[datetime, Decimal]]:
    """Every snapshot's (slot, USD price), in slot order: 35,000 rows a year, read once at start-up and by
    a recompute."""
    return [(row[0], row[1]) for row in await connection.fetch(PRICE_SERIES)]


async def latest_indicator_slot(connection: asyncpg.Connection) -> datetime | None:
    value: datetime | None = await connection.fetchval(LATEST_INDICATOR_SLOT)
    return value


async def upsert_indicators(connection: asyncpg.Connection, values: Sequence[IndicatorValues]) -> None:
    columns = (
        "slot_at",
        "rsi_14",
        "macd",
        "macd_signal",
        "macd_histogram",
        "bb_upper",
        "bb_middle",
        "bb_lower",
        "ema_12",
        "ema_26",
        "signal",
    )
    await connection.execute(
        UPSERT_INDICATORS, *([getattr(value, column) for value in values] for column in columns)
    )
