"""A mempool.space-compatible block explorer: difficulty adjustments, network hashrate, the block at a time.

Endpoints (mempool.space's REST API, under `{base}`):
- `GET /api/v1/mining/difficulty-adjustments/{period}` → `[[unix_time, height, difficulty, change], ...]`,
  newest first; windhash turns them into one difficulty per UTC date (`difficulty_store.daily_difficulties`);
- `GET /api/v1/mining/hashrate/{period}` → `{"hashrates": [{"timestamp", "avgHashrate"}], "difficulty":
  [...], "currentHashrate": H/s, "currentDifficulty": ...}`;
- `GET /api/v1/mining/blocks/timestamp/{unix_time}` → `{"height", "hash", "timestamp"}`: the last block mined
  at or before that time (ISO 8601 or unix `timestamp`).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

import httpx

from windhash_common.difficulty_store import DifficultyAdjustment, daily_difficulties
from windhash_common.market_sources.http_fetch import SYNTHETIC_HEADER, FetchLimits, SourceError, get_json

PERIODS = ("1m", "3m", "6m", "1y", "2y", "3y", "all")
SOURCE = "explorer"


@dataclass(frozen=True)
class BlockAtTime:
    height: int
    mined_at: datetime


@dataclass(frozen=True)
class HashrateReading:
    current_hashrate_hs: Decimal
    current_difficulty: Decimal
    daily_hashrates_hs: tuple[tuple[datetime, Decimal], ...]  # the source's daily averages, oldest first


def period_covering(oldest: date, today: date) -> str:
    """The shortest history period of the explorer's mining endpoints that reaches back to `oldest`."""
    for period, days in (("1m", 30), ("3m", 90), ("6m", 180), ("1y", 365), ("2y", 730), ("3y", 1095)):
        if (today - oldest).days < days:
            return period
    return "all"


def parse_adjustments(payload: Any) -> list[DifficultyAdjustment]:
    if not isinstance(payload, list):
        raise SourceError("difficulty adjustments: expected a JSON array")
    adjustments = []
    for entry in payload:
        if not isinstance(entry, list) or len(entry) < 3:
            raise SourceError(f"difficulty adjustments: unreadable entry {entry!r}"[:300])
        try:
            at = datetime.fromtimestamp(int(entry[0]), tz=UTC)
            adjustments.append(
                DifficultyAdjustment(at=at, height=int(entry[1]), difficulty=Decimal(str(entry[2])))
            )
        except (TypeError, ValueError, OverflowError, ArithmeticError) as error:
            raise SourceError(f"difficulty adjustments: unreadable entry {entry!r}"[:300]) from error
    return adjustments


def _instant(value: Any) -> datetime:
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return datetime.fromtimestamp(int(value), tz=UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError(f"not a time: {value!r}")


def _number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ValueError(f"not a number: {value!r}")
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return number


def parse_block(payload: Any) -> BlockAtTime:
    try:
        return BlockAtTime(height=int(_number(payload["height"])), mined_at=_instant(payload["timestamp"]))
    except (TypeError, KeyError, ValueError, OverflowError, ArithmeticError) as error:
        raise SourceError(f"block by timestamp: unreadable answer {payload!r}"[:300]) from error


def parse_hashrate(payload: Any) -> HashrateReading:
    try:
        daily = tuple(
            sorted(
                (_instant(point["timestamp"]), _number(point["avgHashrate"]))
                for point in payload["hashrates"]
            )
        )
        return HashrateReading(
            current_hashrate_hs=_number(payload["currentHashrate"]),
            current_difficulty=_number(payload["currentDifficulty"]),
            daily_hashrates_hs=daily,
        )
    except (TypeError, KeyError, ValueError, OverflowError, ArithmeticError) as error:
        raise SourceError(f"hashrate: unreadable answer ({error})"[:300]) from error


class ExplorerClient:
    """One connection pool to the explorer; `async with ExplorerClient(url, limits) as explorer: ...`."""

    def __init__(
        self, base_url: str, limits: FetchLimits, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._base = base_url.rstrip("/")
        self._limits = limits
        self.synthetic = False  # set once an answer carried windhash's synthetic label
        self._http = httpx.AsyncClient(
            timeout=limits.timeout(),
            headers={"Accept": "application/json", "User-Agent": "windhash"},
            transport=transport,
            event_hooks={"response": [self._note_label]},
        )

    async def _note_label(self, response: httpx.Response) -> None:
        self.synthetic = self.synthetic or response.headers.get(SYNTHETIC_HEADER, "").lower() == "true"

    async def _get(self, path: str) -> Any:
        return await get_json(self._http, self._base + path, limits=self._limits, source=SOURCE)

    async def difficulty_adjustments(self, period: str) -> list[DifficultyAdjustment]:
        if period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)}")
        return parse_adjustments(await self._get(f"/api/v1/mining/difficulty-adjustments/{period}"))

    async def daily_difficulties(self, period: str, until: date) -> dict[date, Decimal]:
        """One difficulty per UTC date (the one in effect at its 00:00) up to `until`."""
        return daily_difficulties(await self.difficulty_adjustments(period), until)

    async def hashrate(self, period: str = "3d") -> HashrateReading:
        return parse_hashrate(await self._get(f"/api/v1/mining/hashrate/{period}"))

    async def block_at(self, at: datetime) -> BlockAtTime:
        """The last block mined at or before `at`."""
        return parse_block(await self._get(f"/api/v1/mining/blocks/timestamp/{int(at.timestamp())}"))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()
