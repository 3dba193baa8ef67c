"""The automatic policy's one decision (pure): should a site's miners of one model run this half hour?

A model's miners lose money when the site pays more for a MWh than that MWh mines:

    hashprice (£/MWh) = BTC one MWh mines on the model (windhash_common.hashprice.btc_per_mwh, at the
                        difficulty and block reward of the moment) × the BTC price in £
    curtail when        power price > hashprice × (1 + hysteresis)   and the miners have run ≥ min_on
    resume when         power price < hashprice × (1 − hysteresis)   and the miners have slept ≥ min_off
    otherwise           keep what they do

The band between the two thresholds and the minimum times stop a price that hovers around the hashprice from
switching a site on and off every half hour (flapping). Models are decided separately, so the least
efficient ones (lowest hashprice) are curtailed first as the price rises and come back last.

A missing power price or hashprice is never replaced by a default: the decision keeps what the miners do
and says which input was missing. Every decision carries its inputs, which the service stores for audit.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from windhash_common.bitcoin import PRECISE
from windhash_common.hashprice import btc_per_mwh


class Action(StrEnum):
    CURTAIL = "curtail"
    RESUME = "resume"
    KEEP_RUNNING = "keep_running"
    KEEP_CURTAILED = "keep_curtailed"


CHANGES = frozenset({Action.CURTAIL, Action.RESUME})


@dataclass(frozen=True)
class PolicyRules:
    hysteresis: Decimal = Decimal("0.05")
    min_on: timedelta = timedelta(minutes=30)
    min_off: timedelta = timedelta(minutes=30)

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.hysteresis < Decimal(1):
            raise ValueError("the hysteresis is a fraction from 0 to under 1")
        if self.min_on < timedelta(0) or self.min_off < timedelta(0):
            raise ValueError("minimum on and off times cannot be negative")


@dataclass(frozen=True)
class MarketMoment:
    """The mining side of the decision: what the network and the BTC price were."""

    difficulty: Decimal
    block_reward_btc: Decimal
    btc_price_gbp: Decimal
    observed_at: datetime


@dataclass(frozen=True)
class ModelSpec:
    name: str
    hashrate_ths: Decimal
    power_w: Decimal


@dataclass(frozen=True)
class DecisionInputs:
    miner_model: str
    period_start: datetime
    power_price_gbp_per_mwh: Decimal | None
    price_source: str
    """`tariff` or `market_index`."""
    hashprice_gbp_per_mwh: Decimal | None
    market: MarketMoment | None


@dataclass(frozen=True)
class RunState:
    curtailed: bool
    since: datetime | None
    """When the miners last changed (None: never decided, which counts as long enough ago)."""


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str
    inputs: DecisionInputs

    @property
    def curtailed_after(self) -> bool:
        return self.action in (Action.CURTAIL, Action.KEEP_CURTAILED)


def hashprice_gbp_per_mwh(model: ModelSpec, market: MarketMoment) -> Decimal:
    btc = btc_per_mwh(model.hashrate_ths, model.power_w, market.difficulty, market.block_reward_btc)
    return PRECISE.multiply(btc, market.btc_price_gbp)


def decision_inputs(
    model: ModelSpec,
    period_start: datetime,
    price: Decimal | None,
    price_source: str,
    market: MarketMoment | None,
) -> DecisionInputs:
    hashprice = None if market is None else hashprice_gbp_per_mwh(model, market)
    return DecisionInputs(model.name, period_start, price, price_source, hashprice, market)


def _held_for(state: RunState, now: datetime) -> timedelta | None:
    return None if state.since is None else now - state.since


def _money(value: Decimal) -> str:
    return f"£{value:.2f}/MWh"


def decide(inputs: DecisionInputs, state: RunState, rules: PolicyRules, now: datetime) -> Decision:
    keep = Action.KEEP_CURTAILED if state.curtailed else Action.KEEP_RUNNING
    price, hashprice = inputs.power_price_gbp_per_mwh, inputs.hashprice_gbp_per_mwh
    if price is None:
        return Decision(keep, f"no {inputs.price_source} power price for the period: nothing changes", inputs)
    if hashprice is None:
        return Decision(keep, "no recent market snapshot (difficulty, BTC price): nothing changes", inputs)
    upper = hashprice * (1 + rules.hysteresis)
    lower = hashprice * (1 - rules.hysteresis)
    held = _held_for(state, now)
    compared = f"power {_money(price)} vs hashprice {_money(hashprice)}"
    if not state.curtailed:
        if price <= upper:
            return Decision(keep, f"{compared}: mining pays (curtail above {_money(upper)})", inputs)
        if held is not None and held < rules.min_on:
            return Decision(
                keep, f"{compared}: would curtail, but running only {held} of {rules.min_on}", inputs
            )
        return Decision(Action.CURTAIL, f"{compared}: above {_money(upper)}", inputs)
    if price >= lower:
        return Decision(keep, f"{compared}: mining does not pay (resume below {_money(lower)})", inputs)
    if held is not None and held < rules.min_off:
        reason = f"{compared}: would resume, but asleep only {held} of {rules.min_off}"
        return Decision(keep, reason, inputs)
    return Decision(Action.RESUME, f"{compared}: below {_money(lower)}", inputs)


def next_state(state: RunState, decision: Decision, now: datetime) -> RunState:
    if decision.action in CHANGES:
        return RunState(decision.action is Action.CURTAIL, now)
    return state
