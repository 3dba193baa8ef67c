"""Hashprice over time for one miner model: the mean, over a bucket's snapshots, of each snapshot's hashprice.

Hashprice is linear in the price at a given difficulty and block reward (`windhash_common.hashprice`), so the
bucket's mean is exact from a few sums: SQL groups the bucket's snapshots by (difficulty, reward) and sums
their prices, and

    mean £/MWh = Σ over groups of hashprice(difficulty, reward, Σ GBP prices) / snapshots in the bucket

(likewise $/TH/day with the USD prices). The formula stays in one place; no snapshot is read one by one.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from windhash_common.bitcoin import PRECISE
from windhash_common.hashprice import model_hashprice
from windhash_common.miner_models import MinerModel


@dataclass(frozen=True)
class PriceSums:
    """The snapshots of one bucket that share a difficulty and a block reward."""

    bucket_at: datetime
    difficulty: Decimal
    block_reward_btc: Decimal
    snapshots: int
    usd_sum: Decimal
    gbp_sum: Decimal
    synthetic: bool


@dataclass(frozen=True)
class HashpricePoint:
    bucket_at: datetime
    snapshots: int
    gbp_per_mwh: Decimal
    usd_per_th_day: Decimal
    synthetic: bool


def hashprice_points(model: MinerModel, groups: Iterable[PriceSums]) -> list[HashpricePoint]:
    """One point per bucket, in the order the groups come (by bucket)."""
    points: list[HashpricePoint] = []
    totals: dict[datetime, tuple[int, Decimal, Decimal, bool]] = {}
    for group in groups:
        summed = model_hashprice(
            model.name,
            model.hashrate_ths,
            model.power_w,
            group.difficulty,
            group.block_reward_btc,
            group.usd_sum,
            group.gbp_sum,
        )
        count, gbp, usd, synthetic = totals.get(group.bucket_at, (0, Decimal(0), Decimal(0), False))
        totals[group.bucket_at] = (
            count + group.snapshots,
            PRECISE.add(gbp, summed.gbp_per_mwh),
            PRECISE.add(usd, summed.usd_per_th_day),
            synthetic or group.synthetic,
        )
    for bucket_at, (count, gbp, usd, synthetic) in totals.items():
        points.append(
            HashpricePoint(
                bucket_at,
                count,
                PRECISE.divide(gbp, Decimal(count)),
                PRECISE.divide(usd, Decimal(count)),
                synthetic,
            )
        )
    return points
