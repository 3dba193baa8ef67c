"""The synthetic market: every figure a pure function of the seed and the time, so the same question always
gets the same answer, and the history grows as the clock moves on (nothing after "now" is ever served).

Blocks come exactly every 600 s from an anchor retarget (height 556,416 at 2018-12-31 12:00 UTC); every
2,016 blocks the difficulty changes, following a trend from ~5.6e12 (2019) that grows ×1.6 a year, with ±3%
noise per epoch. The hashrate is the one the difficulty implies, ±5% per day. The BTC price follows a
log-linear trend from ~$3,800 (2019) to ~$100,000 (2026) with a four-year cycle and ±0.5% noise per five
minutes; GBP = USD × a rate between 0.74 and 0.82; the 24 h volume stays within $10bn-$40bn. None of it is
market data: it is shaped like it, so that bounds, backfill and indicators meet realistic numbers.
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

DEFAULT_SEED = 2019
ANCHOR_HEIGHT = 556_416  # a retarget height (276 × 2016)
ANCHOR_TIME = datetime(2018, 12, 31, 12, 0, tzinfo=UTC)
BLOCK_SECONDS = 600
EPOCH_BLOCKS = 2016
_ANCHOR_DIFFICULTY = 5.6e12
_YEAR_SECONDS = 365.25 * 86400
_PRICE_START, _PRICE_2026 = 3800.0, 100_000.0
_FIVE_MINUTES = 300


def _noise(seed: int, kind: str, index: int) -> float:
    """A deterministic number in [-1, 1) for (seed, kind, index)."""
    digest = hashlib.blake2b(f"{seed}:{kind}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**63 - 1.0


def _years(at: datetime) -> float:
    return (at - ANCHOR_TIME).total_seconds() / _YEAR_SECONDS


@dataclass(frozen=True)
class Adjustment:
    at: datetime
    height: int
    difficulty: Decimal
    change: Decimal  # this difficulty / the previous one


def height_at(at: datetime) -> int:
    """The last block mined at or before `at` (the anchor block at the earliest)."""
    return ANCHOR_HEIGHT + max(0, int((at - ANCHOR_TIME).total_seconds()) // BLOCK_SECONDS)


def block_time(height: int) -> datetime:
    return ANCHOR_TIME + timedelta(seconds=(height - ANCHOR_HEIGHT) * BLOCK_SECONDS)


def epoch_difficulty(seed: int, epoch: int) -> Decimal:
    """The difficulty of the `epoch`-th retarget after the anchor (epoch 0 = the anchor). Whole numbers: JSON
    numbers are doubles to most clients, and a fraction of a difficulty above 2^53 / 100 would not survive."""
    trend = _ANCHOR_DIFFICULTY * 1.6 ** _years(block_time(ANCHOR_HEIGHT + epoch * EPOCH_BLOCKS))
    return Decimal(trend * (1 + 0.03 * _noise(seed, "difficulty", epoch))).quantize(Decimal(1))


def adjustment(seed: int, epoch: int) -> Adjustment:
    difficulty = epoch_difficulty(seed, epoch)
    previous = epoch_difficulty(seed, epoch - 1) if epoch > 0 else difficulty
    height = ANCHOR_HEIGHT + epoch * EPOCH_BLOCKS
    change = (difficulty / previous).quantize(Decimal("0.0001"))
    return Adjustment(block_time(height), height, difficulty, change)


def adjustments_between(seed: int, first: datetime, last: datetime) -> list[Adjustment]:
    """Every retarget mined from `first` to `last`, oldest first (the anchor's the earliest there is)."""
    start = max(0, math.ceil((height_at(first) - ANCHOR_HEIGHT) / EPOCH_BLOCKS))
    end = (height_at(last) - ANCHOR_HEIGHT) // EPOCH_BLOCKS
    return [adjustment(seed, epoch) for epoch in range(start, end + 1)]


def difficulty_at(seed: int, at: datetime) -> Decimal:
    return epoch_difficulty(seed, (height_at(at) - ANCHOR_HEIGHT) // EPOCH_BLOCKS)


def hashrate_hs(seed: int, at: datetime) -> Decimal:
    """The network hashrate (H/s) estimated for `at`'s UTC day: what the difficulty implies, ±5%."""
    implied = float(difficulty_at(seed, at)) * 2**32 / BLOCK_SECONDS
    day = at.date().toordinal()
    return Decimal(implied * (1 + 0.05 * _noise(seed, "hashrate", day))).quantize(Decimal(1))


def _usd_trend(at: datetime) -> float:
    years = _years(at)
    growth = math.log(_PRICE_2026 / _PRICE_START) / 7.0
    return _PRICE_START * math.exp(growth * years) * (1 + 0.25 * math.sin(2 * math.pi * years / 4))


def price_usd(seed: int, at: datetime) -> Decimal:
    """BTC in USD at `at`, constant over each five-minute step."""
    step = int(at.timestamp()) // _FIVE_MINUTES
    step_start = datetime.fromtimestamp(step * _FIVE_MINUTES, tz=UTC)
    value = _usd_trend(step_start) * (1 + 0.005 * _noise(seed, "price", step))
    return Decimal(value).quantize(Decimal("0.01"))


def gbp_per_usd(at: datetime) -> Decimal:
    return Decimal(0.78 + 0.04 * math.sin(2 * math.pi * _years(at) / 3)).quantize(Decimal("0.0001"))


def price_gbp(seed: int, at: datetime) -> Decimal:
    return (price_usd(seed, at) * gbp_per_usd(at)).quantize(Decimal("0.01"))


def volume_usd(seed: int, at: datetime) -> Decimal:
    hour = int(at.timestamp()) // 3600
    return Decimal(2.5e10 * (1 + 0.5 * _noise(seed, "volume", hour))).quantize(Decimal(1))
