"""The market indicators equal TA-Lib's on a long series after the warm-up, and the signal rule."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
import talib
from windhash_market.indicators import recompute, signal_rule

START = datetime(2026, 1, 1, tzinfo=UTC)
WARM_UP = 300  # snapshots after which TA-Lib's MACD seeding no longer shows (its fast EMA starts later)


def random_walk(length: int, seed: int) -> list[Decimal]:
    steps = np.random.default_rng(seed).normal(0, 0.004, length)
    return [Decimal(f"{value:.2f}") for value in 60_000 * np.exp(np.cumsum(steps))]


def test_indicators_equal_ta_libs_on_a_long_series() -> None:
    prices = random_walk(5_000, seed=7)  # long enough for the series to drop old values twice
    _, values = recompute((START + timedelta(minutes=15 * i), price) for i, price in enumerate(prices))
    closes = np.array([float(price) for price in prices])
    macd, signal, histogram = talib.MACD(closes, 12, 26, 9)
    simple_average = talib.MA_Type.SMA  # type: ignore[attr-defined]
    upper, middle, lower = talib.BBANDS(closes, 20, 2.0, 2.0, simple_average)
    reference = {
        "rsi_14": talib.RSI(closes, 14),
        "ema_12": talib.EMA(closes, 12),
        "ema_26": talib.EMA(closes, 26),
        "macd": macd,
        "macd_signal": signal,
        "macd_histogram": histogram,
        "bb_upper": upper,
        "bb_middle": middle,
        "bb_lower": lower,
    }
    for name, expected in reference.items():
        ours = np.array([getattr(value, name) for value in values[WARM_UP:]], dtype=float)
        assert np.max(np.abs(ours - expected[WARM_UP:])) < 1e-6, name


def test_indicators_warm_up_before_they_have_values() -> None:
    _, values = recompute((START + timedelta(minutes=15 * i), p) for i, p in enumerate(random_walk(40, 1)))
    assert values[13].rsi_14 is None and values[14].rsi_14 is not None
    assert values[18].bb_middle is None and values[19].bb_middle is not None
    assert values[32].macd_signal is None and values[33].macd_signal is not None
    assert all(value.signal == "NEUTRAL" for value in values[:33])


def test_incremental_updates_equal_a_recompute_and_refuse_an_older_slot() -> None:
    prices = random_walk(200, seed=3)
    slots = [START + timedelta(minutes=15 * i) for i in range(200)]
    series, _ = recompute(zip(slots[:150], prices[:150], strict=True))
    incremental = [series.add(slot, price) for slot, price in zip(slots[150:], prices[150:], strict=True)]
    _, whole = recompute(zip(slots, prices, strict=True))
    assert incremental == whole[150:]
    with pytest.raises(ValueError, match="recompute"):
        series.add(slots[0], prices[0])


@pytest.mark.parametrize(
    ("price", "rsi", "histogram", "expected"),
    [
        (95.0, 25.0, 0.5, "BUY"),  # oversold, momentum up, below the lower band: three votes
        (101.0, 25.0, 0.5, "BUY"),  # oversold and momentum up: two
        (101.0, 25.0, -0.5, "NEUTRAL"),  # oversold but momentum still falling: they cancel
        (101.0, 50.0, 0.5, "NEUTRAL"),  # momentum alone never decides
        (106.0, 75.0, -0.5, "SELL"),  # overbought, momentum down, above the upper band
        (104.0, 50.0, -0.5, "NEUTRAL"),
        (106.0, 50.0, -0.5, "SELL"),  # above the upper band and falling
    ],
)
def test_signal_rule_needs_two_votes_the_same_way(
    price: float, rsi: float, histogram: float, expected: str
) -> None:
    assert signal_rule(price, rsi, histogram, bb_lower=96.0, bb_upper=105.0) == expected


def test_signal_is_neutral_while_any_indicator_warms_up() -> None:
    assert signal_rule(90.0, 10.0, 1.0, None, None) == "NEUTRAL"
    assert signal_rule(90.0, None, 1.0, 96.0, 105.0) == "NEUTRAL"
