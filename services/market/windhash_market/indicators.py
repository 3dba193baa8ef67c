"""Technical indicators over the snapshots' USD price, in slot order, computed by talipp (incremental: each
new snapshot costs one update, not a pass over the history), and the signal rule.

Indicators (the textbook definitions; tests/unit/test_market_indicators.py holds them equal to TA-Lib's to
1e-6 after the warm-up): RSI(14) with Wilder's smoothing; EMA(12) and EMA(26) seeded with their simple
average; MACD = EMA(12) − EMA(26), its signal = EMA(9) of MACD, histogram = MACD − signal; Bollinger bands =
SMA(20) ± 2 population standard deviations. Each is None until it has enough snapshots (RSI 15, EMA 12/26,
MACD signal 34, Bollinger 20).

Signal rule: three votes, each +1 (bullish), −1 (bearish) or 0:
- RSI: +1 below 30 (oversold), −1 above 70 (overbought);
- MACD histogram: +1 above 0 (momentum rising), −1 below 0;
- Bollinger: +1 when the price is below the lower band, −1 when above the upper band.
BUY when the votes add up to +2 or more, SELL at −2 or less, NEUTRAL otherwise, and NEUTRAL while any of the
three is still warming up: one indicator alone never decides.

The series is the snapshots in slot order, gaps included as gaps (a missing slot is not interpolated). A
snapshot backfilled before the latest one changes the series, so the indicators from it on are recomputed
(`recompute`) rather than updated.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from talipp.indicators import BB, EMA, MACD, RSI

Signal = Literal["BUY", "SELL", "NEUTRAL"]
RSI_PERIOD, EMA_FAST, EMA_SLOW, MACD_SIGNAL, BOLLINGER_PERIOD, BOLLINGER_WIDTH = 14, 12, 26, 9, 20, 2.0
RSI_OVERSOLD, RSI_OVERBOUGHT = 30.0, 70.0
SIGNAL_RULE = (
    "Three votes: RSI(14) below 30 +1, above 70 -1; MACD histogram above 0 +1, below 0 -1; price below the"
    " lower Bollinger band +1, above the upper -1. BUY at +2 or more, SELL at -2 or less, NEUTRAL otherwise"
    " and while any indicator warms up."
)
# talipp keeps every value it saw; older ones no longer change anything, so they are dropped in chunks.
_KEEP, _PURGE_AT = 1_000, 2_000


@dataclass(frozen=True)
class IndicatorValues:
    slot_at: datetime
    rsi_14: float | None
    macd: float | None
    macd_signal: float | None
    macd_histogram: float | None
    bb_upper: float | None
    bb_middle: float | None
    bb_lower: float | None
    ema_12: float | None
    ema_26: float | None
    signal: Signal


def _vote(value: float | None, low: float, high: float, below: int) -> int | None:
    if value is None:
        return None
    return below if value < low else -below if value > high else 0


def signal_rule(
    price: float,
    rsi: float | None,
    macd_histogram: float | None,
    bb_lower: float | None,
    bb_upper: float | None,
) -> Signal:
    """BUY / SELL / NEUTRAL by the three votes above."""
    votes = [
        _vote(rsi, RSI_OVERSOLD, RSI_OVERBOUGHT, 1),
        _vote(macd_histogram, 0.0, 0.0, -1),
        None if bb_lower is None or bb_upper is None else _vote(price, bb_lower, bb_upper, 1),
    ]
    if any(vote is None for vote in votes):
        return "NEUTRAL"
    total = sum(vote for vote in votes if vote is not None)
    return "BUY" if total >= 2 else "SELL" if total <= -2 else "NEUTRAL"


class IndicatorSeries:
    """The indicators' state after the snapshots added so far, in slot order."""

    def __init__(self) -> None:
        self._rsi = RSI(RSI_PERIOD)
        self._ema_fast = EMA(EMA_FAST)
        self._ema_slow = EMA(EMA_SLOW)
        self._macd = MACD(EMA_FAST, EMA_SLOW, MACD_SIGNAL)
        self._bollinger = BB(BOLLINGER_PERIOD, BOLLINGER_WIDTH)
        self.last_slot: datetime | None = None

    def add(self, slot_at: datetime, price_usd: Decimal) -> IndicatorValues:
        if self.last_slot is not None and slot_at <= self.last_slot:
            raise ValueError(f"snapshot {slot_at} is not after {self.last_slot}: recompute the series")
        price = float(price_usd)
        parts = (self._rsi, self._ema_fast, self._ema_slow, self._macd, self._bollinger)
        for indicator in parts:
            indicator.add(price)
        self.last_slot = slot_at
        rsi, fast, slow = self._rsi[-1], self._ema_fast[-1], self._ema_slow[-1]
        macd, bands = self._macd[-1], self._bollinger[-1]
        if len(self._rsi) >= _PURGE_AT:
            for indicator in parts:
                indicator.purge_oldest(_PURGE_AT - _KEEP)
        histogram = macd.histogram if macd is not None else None
        lower = bands.lb if bands is not None else None
        upper = bands.ub if bands is not None else None
        return IndicatorValues(
            slot_at=slot_at,
            rsi_14=rsi,
            macd=macd.macd if macd is not None else None,
            macd_signal=macd.signal if macd is not None else None,
            macd_histogram=histogram,
            bb_upper=upper,
            bb_middle=bands.cb if bands is not None else None,
            bb_lower=lower,
            ema_12=fast,
            ema_26=slow,
            signal=signal_rule(price, rsi, histogram, lower, upper),
        )


def recompute(prices: Iterable[tuple[datetime, Decimal]]) -> tuple[IndicatorSeries, list[IndicatorValues]]:
    """The indicators of a whole series (slot, USD price) from scratch, and the state to continue from."""
    series = IndicatorSeries()
    return series, [series.add(slot_at, price) for slot_at, price in prices]
