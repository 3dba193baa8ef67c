"""The backtest on a small case computed by hand: 1,000 S19J Pros (100 TH/s, 3,050 W) over four half hours
of 1 March 2024 (block reward 6.25 BTC), difficulty 8e13, BTC at £40,000.

A curtailed half hour: 1,000 × 3,050 W × 0.5 h = 1.525 MWh, the miners' 1.8e6 s of mining (1.525 × 3.6e9 J /
3,050 W): 1.8e6 s × 1e14 H/s / (8e13 × 2^32) × 6.25 = 0.0032741809… → 0.00327418 BTC, worth £130.9672;
at £100/MWh it saves £152.50 of power: net £21.5328. The S19J Pro's hashprice is £85.88/MWh, so the
economic policy (5 % band) curtails at £100 and not at £20, as does a £50 threshold."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from windhash_plans.domain.backtest import (
    BacktestReport,
    FleetModel,
    History,
    Policy,
    PricedPeriod,
    backtest,
)
from windhash_plans.domain.economics import ModelSpec, PolicyRules

DAY = date(2024, 3, 1)
START = datetime(2024, 3, 1, tzinfo=UTC)
FLEET = [FleetModel(ModelSpec("S19J_PRO", Decimal(100), Decimal(3050)), 1000)]
RULES = PolicyRules(Decimal("0.05"), timedelta(0), timedelta(0))


def periods(*prices: str | None) -> list[PricedPeriod]:
    return [
        PricedPeriod(START + index * timedelta(minutes=30), None if price is None else Decimal(price))
        for index, price in enumerate(prices)
    ]


def history(*prices: str | None, extra: list[PricedPeriod] | None = None) -> History:
    return History(
        periods(*prices) + (extra or []),
        {DAY: Decimal("8e13"), date(2024, 3, 2): Decimal("8e13")},
        {DAY: Decimal(40000)},
    )


def run(*policies: str) -> BacktestReport:
    no_btc_price = [PricedPeriod(datetime(2024, 3, 2, 12, tzinfo=UTC), Decimal(500))]
    return backtest(
        history("100", "20", None, "100", extra=no_btc_price),
        FLEET,
        [Policy.parse(name, RULES) for name in policies],
    )


def test_the_hand_computed_case() -> None:
    report = run("economic", "threshold:50", "always-on")
    assert report.periods_evaluated == 3
    assert report.periods_skipped == {"no power price": 1, "no BTC price": 1}
    economic, threshold, always_on = report.results
    for result in (economic, threshold):
        totals = result.totals
        assert totals.curtailed_mwh == Decimal("3.050")
        assert totals.saved_gbp == Decimal("305.000")
        assert totals.btc_forgone == Decimal("0.00654836")
        assert totals.forgone_gbp == Decimal("261.93440000")
        assert totals.net_gbp == Decimal("43.06560000")
        assert result.curtailed_periods == 2
        assert list(result.by_day) == [DAY]
    assert economic.changes == 3  # curtail, resume, curtail
    assert always_on.totals.curtailed_mwh == 0 and always_on.totals.net_gbp == 0


def test_a_threshold_above_the_prices_never_curtails() -> None:
    (result,) = run("threshold:150").results
    assert result.curtailed_periods == 0 and result.totals.saved_gbp == 0


def test_an_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown policy"):
        Policy.parse("sometimes", RULES)
