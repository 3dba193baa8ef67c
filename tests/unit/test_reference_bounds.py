from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from windhash_common.btc_prices import packaged_synthetic_prices_2024
from windhash_common.difficulty_store import packaged_difficulty_2024
from windhash_common.reference_bounds import (
    daily_difficulty_refusals,
    daily_price_refusals,
    difficulty_problem,
    hashrate_problem,
    implied_hashrate_ehs,
    price_problem,
    staleness_problem,
    volume_problem,
)

DIFFICULTY = Decimal("86388558925171")


def test_zero_negative_tiny_huge_and_non_finite_difficulties_are_refused_with_a_reason() -> None:
    for value in ("0", "-1", "0.5", "1e18", "NaN", "Infinity"):
        problem = difficulty_problem(Decimal(value))
        assert problem is not None and "difficulty" in problem, value
    assert difficulty_problem(DIFFICULTY) is None


def test_a_day_far_from_its_neighbours_is_refused_but_does_not_condemn_them() -> None:
    days = {date(2024, 5, day): DIFFICULTY for day in range(1, 8)}
    days[date(2024, 5, 4)] = DIFFICULTY * 10
    assert list(daily_difficulty_refusals(days, {})) == [date(2024, 5, 4)]
    # judged against stored neighbours too
    assert list(daily_difficulty_refusals({date(2024, 5, 8): DIFFICULTY / 5}, days)) == [date(2024, 5, 8)]
    # a real retarget (+20%) passes; a day with no neighbour is judged by its absolute bounds
    assert daily_difficulty_refusals({date(2024, 5, 8): DIFFICULTY * Decimal("1.2")}, days) == {}
    assert daily_difficulty_refusals({date(2030, 1, 1): DIFFICULTY * 100}, days) == {}


def test_the_packaged_reference_data_is_plausible() -> None:
    assert daily_difficulty_refusals(packaged_difficulty_2024(), {}) == {}
    prices = {price.price_date: (price.gbp, price.usd) for price in packaged_synthetic_prices_2024()}
    assert daily_price_refusals(prices, {}) == {}


def test_prices_are_refused_when_absurd_swapped_or_far_from_their_neighbours() -> None:
    good = (Decimal(50000), Decimal(64000))
    days = {date(2024, 5, day): good for day in range(1, 8)}
    offered = {
        date(2024, 5, 8): (Decimal(500000), None),  # ×10 its neighbours
        date(2024, 5, 9): (Decimal(0), Decimal(64000)),
        date(2024, 5, 10): (Decimal(64000), Decimal(50000)),  # GBP and USD swapped
        date(2024, 5, 11): (None, None),
    }
    refused = daily_price_refusals(offered, days)
    assert "neighbouring days" in refused[date(2024, 5, 8)]
    assert "not positive" in refused[date(2024, 5, 9)]
    assert "GBP/USD" in refused[date(2024, 5, 10)]
    assert "no price" in refused[date(2024, 5, 11)]
    assert price_problem(Decimal("1e8"), "usd") is not None and price_problem(Decimal(3500), "usd") is None


def test_hashrate_must_agree_with_the_difficulty() -> None:
    implied = implied_hashrate_ehs(DIFFICULTY)
    assert Decimal(600) < implied < Decimal(700)  # 86.4 T × 2^32 / 600 s ≈ 618 EH/s
    assert hashrate_problem(implied * Decimal("1.2"), DIFFICULTY) is None
    problem = hashrate_problem(implied * 1000, DIFFICULTY)
    assert problem is not None  # a TH/s reading taken for EH/s
    assert hashrate_problem(Decimal(0), DIFFICULTY) is not None


def test_volume_and_staleness() -> None:
    assert volume_problem(Decimal(0)) is None and volume_problem(Decimal(-1)) is not None
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert staleness_problem("price", now - timedelta(minutes=5), now, timedelta(minutes=30)) is None
    stale = staleness_problem("price", now - timedelta(hours=2), now, timedelta(minutes=30))
    assert stale is not None and "stale" in stale
