"""From what the sources said about a slot to a snapshot row, or to a refusal with its reason: pure functions.

A slot is the `interval` (15 minutes) starting at a multiple of it from 00:00 UTC. A reading becomes a
snapshot only if every value passes `windhash_common.reference_bounds` (price in both currencies and their
ratio, volume, hashrate against the difficulty, difficulty) and is fresh: the price quote and the tip block
are no older than the freshness limits at the time of the reading (now for a live snapshot, the slot's start
for a backfilled one). Anything else is refused as a whole: a snapshot never carries one invented or borrowed
value. The block reward is the halving schedule's at the slot's start.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from windhash_common.bitcoin import Halving, block_reward_btc
from windhash_common.events_market import MarketSnapshotEvent
from windhash_common.reference_bounds import (
    currencies_problem,
    difficulty_problem,
    hashrate_problem,
    price_jump_problem,
    price_problem,
    staleness_problem,
    volume_problem,
)

_PENNY = Decimal("0.01")
_HASHRATE_PRECISION = Decimal("0.001")
_DIFFICULTY_PRECISION = Decimal("0.0001")
_HASHES_PER_EXAHASH = Decimal("1e18")
_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class MarketReading:
    """What the explorer and the price API said about a moment (now, or a past slot from their history)."""

    price_usd: Decimal
    price_gbp: Decimal
    volume_24h_usd: Decimal
    price_quoted_at: datetime
    hashrate_hs: Decimal
    difficulty: Decimal
    block_height: int
    block_mined_at: datetime
    synthetic: bool


@dataclass(frozen=True)
class Freshness:
    max_price_age: timedelta
    max_block_age: timedelta


@dataclass(frozen=True)
class MarketSnapshot:
    slot_at: datetime
    price_usd: Decimal
    price_gbp: Decimal
    volume_24h_usd: Decimal
    hashrate_ehs: Decimal
    difficulty: Decimal
    block_height: int
    block_reward_btc: Decimal
    price_quoted_at: datetime
    block_mined_at: datetime
    collected_at: datetime
    backfilled: bool
    synthetic: bool

    def event(self) -> MarketSnapshotEvent:
        return MarketSnapshotEvent(
            slot_at=self.slot_at,
            price_usd=self.price_usd,
            price_gbp=self.price_gbp,
            volume_24h_usd=self.volume_24h_usd,
            hashrate_ehs=self.hashrate_ehs,
            difficulty=self.difficulty,
            block_height=self.block_height,
            block_reward_btc=self.block_reward_btc,
            collected_at=self.collected_at,
            backfilled=self.backfilled,
            synthetic=self.synthetic,
        )


@dataclass(frozen=True)
class Refusal:
    slot_at: datetime
    reason: str


def slot_start(at: datetime, interval: timedelta) -> datetime:
    """The start of the slot holding `at`."""
    if at.tzinfo is None:
        raise ValueError("slot_start needs a timezone-aware instant")
    midnight = datetime.combine(at.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)
    return midnight + ((at - midnight) // interval) * interval


def slots_between(first: datetime, last: datetime, interval: timedelta) -> list[datetime]:
    """Starts of every slot from the one holding `first` to the one holding `last`, oldest first."""
    slot, end = slot_start(first, interval), slot_start(last, interval)
    slots = []
    while slot <= end:
        slots.append(slot)
        slot += interval
    return slots


def _problems(
    reading: MarketReading, as_of: datetime, freshness: Freshness, recent_usd: Sequence[Decimal]
) -> list[str]:
    found = [
        price_problem(reading.price_usd, "usd"),
        price_problem(reading.price_gbp, "gbp"),
        volume_problem(reading.volume_24h_usd),
        difficulty_problem(reading.difficulty),
    ]
    if not any(found):
        found.append(currencies_problem(reading.price_gbp, reading.price_usd))
        found.append(hashrate_problem(reading.hashrate_hs / _HASHES_PER_EXAHASH, reading.difficulty))
        found.append(price_jump_problem(reading.price_usd, recent_usd, "usd"))
    found.append(
        staleness_problem("the price quote", reading.price_quoted_at, as_of, freshness.max_price_age)
    )
    found.append(staleness_problem("the tip block", reading.block_mined_at, as_of, freshness.max_block_age))
    if reading.price_quoted_at > as_of + _CLOCK_SKEW:
        found.append(
            f"the price quote is dated {reading.price_quoted_at.isoformat()}, after {as_of.isoformat()}"
        )
    if reading.block_height < 0:
        found.append(f"block height {reading.block_height} is negative")
    return [problem for problem in found if problem]


def judge_reading(
    slot_at: datetime,
    reading: MarketReading,
    collected_at: datetime,
    backfilled: bool,
    freshness: Freshness,
    recent_usd: Sequence[Decimal],
    halvings: Sequence[Halving],
) -> MarketSnapshot | Refusal:
    """The snapshot of `slot_at`, or why there is none. `recent_usd`: USD prices of the snapshots before it
    (up to a day), against which a jump of more than ×2 is refused."""
    as_of = slot_at if backfilled else collected_at
    problems = _problems(reading, as_of, freshness, recent_usd)
    if problems:
        return Refusal(slot_at, "; ".join(problems))
    return MarketSnapshot(
        slot_at=slot_at,
        price_usd=reading.price_usd.quantize(_PENNY, rounding=ROUND_HALF_EVEN),
        price_gbp=reading.price_gbp.quantize(_PENNY, rounding=ROUND_HALF_EVEN),
        volume_24h_usd=reading.volume_24h_usd.quantize(_PENNY, rounding=ROUND_HALF_EVEN),
        hashrate_ehs=(reading.hashrate_hs / _HASHES_PER_EXAHASH).quantize(
            _HASHRATE_PRECISION, ROUND_HALF_EVEN
        ),
        difficulty=reading.difficulty.quantize(_DIFFICULTY_PRECISION, rounding=ROUND_HALF_EVEN),
        block_height=reading.block_height,
        block_reward_btc=block_reward_btc(slot_at, halvings),
        price_quoted_at=reading.price_quoted_at,
        block_mined_at=reading.block_mined_at,
        collected_at=collected_at,
        backfilled=backfilled,
        synthetic=reading.synthetic,
    )
