"""What `windhash market status` and GET /api/v1/market/status show: the newest snapshot and its age, the last
day's slots by outcome, the recent refusals and misses with their reasons, the newest indicators, and who
holds the job."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from windhash_common.job_leases import JobHolder, job_holders

from windhash_market.queries.series import latest_snapshot

# Outcomes of the slots of the last `$2`: a slot with no row in market_slots was never looked at.
OUTCOMES = """
SELECT status, count(*) FROM market_slots
 WHERE slot_at > $1::timestamptz - $2::interval AND slot_at <= $1 GROUP BY status
"""

PROBLEMS = """
SELECT slot_at, status, reason, attempts, updated_at FROM market_slots
 WHERE status IN ('refused', 'missed') ORDER BY updated_at DESC, slot_at DESC LIMIT $1
"""

LATEST_INDICATORS = """
SELECT i.slot_at, m.price_usd, i.rsi_14, i.macd, i.macd_signal, i.macd_histogram, i.bb_upper, i.bb_middle,
       i.bb_lower, i.ema_12, i.ema_26, i.signal, m.synthetic
  FROM technical_indicators AS i JOIN market_analytics AS m USING (slot_at)
 ORDER BY i.slot_at DESC LIMIT 1
"""


@dataclass(frozen=True)
class MarketStatus:
    latest: dict[str, Any] | None
    age: timedelta | None
    outcomes: dict[str, int]  # over the last day
    problems: list[dict[str, Any]]
    indicators: dict[str, Any] | None
    holders: list[JobHolder]


async def market_status(
    connection: asyncpg.Connection, now: datetime, job_key: str, problems: int = 10
) -> MarketStatus:
    latest = await latest_snapshot(connection)
    outcomes = {row[0]: row[1] for row in await connection.fetch(OUTCOMES, now, timedelta(days=1))}
    indicators = await connection.fetchrow(LATEST_INDICATORS)
    return MarketStatus(
        latest=latest,
        age=now - latest["slot_at"] if latest else None,
        outcomes=outcomes,
        problems=[dict(row) for row in await connection.fetch(PROBLEMS, problems)],
        indicators=dict(indicators) if indicators else None,
        holders=await job_holders(connection, job_key),
    )
