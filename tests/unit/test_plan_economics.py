"""The automatic policy's decision on a simulated price series: it curtails a model when the power costs more
than the model earns, brings it back when mining pays again, and its band and minimum times stop it from
flapping; a missing input changes nothing and says why."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from windhash_plans.domain.economics import (
    Action,
    MarketMoment,
    ModelSpec,
    PolicyRules,
    RunState,
    decide,
    decision_inputs,
    hashprice_gbp_per_mwh,
    next_state,
)

S19 = ModelSpec("S19J_PRO", Decimal(100), Decimal(3050))
S21 = ModelSpec("S21", Decimal(200), Decimal(3500))
START = datetime(2024, 3, 1, tzinfo=UTC)
MARKET = MarketMoment(Decimal("8e13"), Decimal("6.25"), Decimal(40000), START)
RULES = PolicyRules(Decimal("0.05"), min_on=timedelta(minutes=60), min_off=timedelta(minutes=60))

# Power prices as multiples of the S19J Pro's hashprice, one per half hour; None: Elexon had no price.
SERIES: list[float | None] = [0.8, 1.04, 1.2, 0.9, 0.9, 1.4, 1.4, 0.98, None, 0.4]
EXPECTED_S19 = [
    Action.KEEP_RUNNING,  # mining pays
    Action.KEEP_RUNNING,  # dearer, but within the band
    Action.CURTAIL,  # above hashprice + 5 %
    Action.KEEP_CURTAILED,  # would pay again, but asleep only 30 min of the 60
    Action.RESUME,
    Action.KEEP_RUNNING,  # would curtail, but running only 30 min of the 60
    Action.CURTAIL,
    Action.KEEP_CURTAILED,  # within the band
    Action.KEEP_CURTAILED,  # no price: nothing changes
    Action.RESUME,
]


def run(model: ModelSpec, series: list[float | None]) -> list[tuple[Action, str]]:
    s19_hashprice = hashprice_gbp_per_mwh(S19, MARKET)
    state = RunState(False, None)
    decisions = []
    for index, multiple in enumerate(series):
        at = START + index * timedelta(minutes=30)
        price = None if multiple is None else s19_hashprice * Decimal(str(multiple))
        inputs = decision_inputs(model, at, price, "market_index", MARKET)
        decision = decide(inputs, state, RULES, at)
        state = next_state(state, decision, at)
        decisions.append((decision.action, decision.reason))
    return decisions


def test_the_policy_fires_and_recovers_on_a_price_series_as_expected() -> None:
    decisions = run(S19, SERIES)
    assert [action for action, _ in decisions] == EXPECTED_S19
    assert "would resume, but asleep only 0:30:00 of 1:00:00" in decisions[3][1]
    assert "would curtail, but running only 0:30:00 of 1:00:00" in decisions[5][1]
    assert decisions[8][1].startswith("no market_index power price")


def test_a_more_efficient_model_keeps_mining_at_prices_that_stop_a_less_efficient_one() -> None:
    assert hashprice_gbp_per_mwh(S21, MARKET) > hashprice_gbp_per_mwh(S19, MARKET) * Decimal("1.7")
    assert {action for action, _ in run(S21, SERIES)} == {Action.KEEP_RUNNING}


def test_the_hashprice_is_what_a_mwh_mines_at_the_btc_price() -> None:
    # 1 MWh on an S19J Pro: 3.6e9 J / 3050 W × 100 TH/s × 1e12 / (8e13 × 2^32) × 6.25 BTC, at £40,000.
    expected = Decimal("3.6e9") / 3050 * Decimal("1e14") / (Decimal("8e13") * 2**32) * Decimal("6.25") * 40000
    assert abs(hashprice_gbp_per_mwh(S19, MARKET) - expected) < Decimal("1e-20")


def test_without_a_market_snapshot_nothing_changes_and_the_decision_says_so() -> None:
    inputs = decision_inputs(S19, START, Decimal(500), "tariff", None)
    curtailed = decide(inputs, RunState(True, START - timedelta(hours=5)), RULES, START)
    assert curtailed.action is Action.KEEP_CURTAILED and "no recent market snapshot" in curtailed.reason
    running = decide(inputs, RunState(False, None), RULES, START)
    assert running.action is Action.KEEP_RUNNING


def test_every_decision_carries_its_inputs() -> None:
    inputs = decision_inputs(S19, START, Decimal(150), "tariff", MARKET)
    decision = decide(inputs, RunState(False, None), RULES, START)
    assert decision.action is Action.CURTAIL
    assert decision.inputs.market == MARKET and decision.inputs.power_price_gbp_per_mwh == 150
    assert decision.inputs.hashprice_gbp_per_mwh == hashprice_gbp_per_mwh(S19, MARKET)


def test_rules_are_checked() -> None:
    with pytest.raises(ValueError):
        PolicyRules(Decimal("1.2"))
    with pytest.raises(ValueError):
        PolicyRules(min_on=timedelta(minutes=-1))
