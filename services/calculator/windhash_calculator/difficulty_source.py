"""Difficulty adjustments from a mempool.space-compatible API.

`GET {base}/api/v1/mining/difficulty-adjustments/{period}` answers `[[unix_time, height, difficulty, change],
...]` (newest first); windhash turns the adjustments into one difficulty per UTC date (difficulty_store).
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
from windhash_common.difficulty_store import DifficultyAdjustment, daily_difficulties

from windhash_calculator.source_fetch import SourceError, get_json

PERIODS = ("1m", "3m", "6m", "1y", "2y", "3y", "all")


def parse_adjustments(payload: Any) -> list[DifficultyAdjustment]:
    if not isinstance(payload, list):
        raise SourceError("difficulty adjustments: expected a JSON array")
    adjustments = []
    for entry in payload:
        if not isinstance(entry, list) or len(entry) < 3:
            raise SourceError(f"difficulty adjustments: unreadable entry {entry!r}")
        at = datetime.fromtimestamp(int(entry[0]), tz=UTC)
        adjustments.append(
            DifficultyAdjustment(at=at, height=int(entry[1]), difficulty=Decimal(str(entry[2])))
        )
    return adjustments


async def fetch_daily_difficulties(
    base_url: str, period: str, until: date, timeout_seconds: float, attempts: int
) -> dict[date, Decimal]:
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    url = f"{base_url.rstrip('/')}/api/v1/mining/difficulty-adjustments/{period}"
    async with httpx.AsyncClient(timeout=timeout_seconds) as client:
        payload = await get_json(client, url, attempts=attempts)
    return daily_difficulties(parse_adjustments(payload), until)
