"""Hashprice over time: each bucket's point is the exact mean of its snapshots' own hashprices, computed from
the sums SQL returns, across a difficulty retarget and the halving."""

from datetime import UTC, datetime
from decimal import Decimal

from windhash_common.bitcoin import PRECISE
from windhash_common.hashprice import model_hashprice
from windhash_common.miner_models import MinerModel
from windhash_market.hashprice_series import PriceSums, hashprice_points

S21 = MinerModel("S21", "Bitmain", Decimal(200), Decimal(3500))
DAY = datetime(2024, 4, 20, tzinfo=UTC)
NEXT = datetime(2024, 4, 21, tzinfo=UTC)
# (bucket, difficulty, reward, USD, GBP, synthetic): the first bucket spans the halving and a retarget.
SNAPSHOTS = [
    (DAY, Decimal("86388558925171.02"), Decimal("6.25"), Decimal("63850.10"), Decimal("51300.00"), False),
    (DAY, Decimal("86388558925171.02"), Decimal("6.25"), Decimal("64010.55"), Decimal("51421.37"), False),
    (DAY, Decimal("88104191118793.16"), Decimal("3.125"), Decimal("64995.00"), Decimal("52100.40"), True),
    (NEXT, Decimal("88104191118793.16"), Decimal("3.125"), Decimal("64400.00"), Decimal("51800.00"), False),
]


def _sums(bucket: datetime) -> list[PriceSums]:
    groups: dict[tuple[Decimal, Decimal], list[tuple[Decimal, Decimal, bool]]] = {}
    for at, difficulty, reward, usd, gbp, synthetic in SNAPSHOTS:
        if at == bucket:
            groups.setdefault((difficulty, reward), []).append((usd, gbp, synthetic))
    zero = Decimal(0)
    return [
        PriceSums(
            bucket,
            difficulty,
            reward,
            len(rows),
            sum((row[0] for row in rows), zero),
            sum((row[1] for row in rows), zero),
            any(row[2] for row in rows),
        )
        for (difficulty, reward), rows in groups.items()
    ]


def _mean_of_each_snapshot(bucket: datetime) -> tuple[Decimal, Decimal]:
    each = [
        model_hashprice("S21", S21.hashrate_ths, S21.power_w, difficulty, reward, usd, gbp)
        for at, difficulty, reward, usd, gbp, _ in SNAPSHOTS
        if at == bucket
    ]
    count = Decimal(len(each))
    gbp = PRECISE.divide(sum((one.gbp_per_mwh for one in each), Decimal(0)), count)
    usd = PRECISE.divide(sum((one.usd_per_th_day for one in each), Decimal(0)), count)
    return gbp, usd


def test_each_bucket_is_the_mean_of_its_snapshots_hashprices_across_a_retarget_and_the_halving() -> None:
    points = hashprice_points(S21, [*_sums(DAY), *_sums(NEXT)])
    assert [(point.bucket_at, point.snapshots, point.synthetic) for point in points] == [
        (DAY, 3, True),
        (NEXT, 1, False),
    ]
    for point in points:
        gbp, usd = _mean_of_each_snapshot(point.bucket_at)
        assert abs(point.gbp_per_mwh - gbp) < Decimal("1e-20")  # the test sums in 28 digits
        assert abs(point.usd_per_th_day - usd) < Decimal("1e-20")  # the test sums in 28 digits
    assert points[0].gbp_per_mwh > points[1].gbp_per_mwh  # two of three snapshots before the halving


def test_no_snapshot_no_point() -> None:
    assert hashprice_points(S21, []) == []
