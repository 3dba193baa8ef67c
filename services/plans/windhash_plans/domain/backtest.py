"""Replaying history through a curtailment policy (pure): what curtailing a site's miners would have saved on
power and cost in mining. docs/PLANS.md, "Backtest", has the definitions; in short, per half hour and model:

    curtailed energy (MWh) = miners × nameplate power (W) × 0.5 h / 1e6      when the policy curtails them
    £ saved on power       = curtailed energy × the half hour's power price  (negative when the price was)
    BTC forgone            = bitcoin.btc_mined(curtailed energy, hashrate, power, the day's difficulty,
                             the block reward at the half hour's start)
    £ of mining forgone    = BTC forgone × the day's BTC price in £
    net                    = £ saved − £ forgone                               (positive: curtailing paid)

A half hour missing any input (its power price, its day's difficulty or BTC price) is left out for every
policy and counted with its reason, never filled in, so the policies are always compared on the same periods.
"""

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from windhash_common.bitcoin import block_reward_btc, btc_mined

from windhash_plans.domain.economics import (
    Action,
    MarketMoment,
    ModelSpec,
    PolicyRules,
    RunState,
    decide,
    decision_inputs,
    next_state,
)

HALF_HOUR = timedelta(minutes=30)
HOURS_PER_PERIOD = Decimal("0.5")
WATTS_PER_MW = Decimal(1_000_000)


@dataclass(frozen=True)
class PricedPeriod:
    start: datetime
    """UTC start of the settlement period."""
    price_gbp_per_mwh: Decimal | None


@dataclass(frozen=True)
class FleetModel:
    spec: ModelSpec
    miners: int


@dataclass(frozen=True)
class History:
    periods: Sequence[PricedPeriod]
    difficulty: Mapping[date, Decimal]
    btc_price_gbp: Mapping[date, Decimal]


@dataclass(frozen=True)
class Policy:
    """A named rule: `curtails(model, period, market, state) → curtailed or not`, with its running state."""

    name: str
    rules: PolicyRules | None = None
    threshold_gbp_per_mwh: Decimal | None = None

    @staticmethod
    def parse(text: str, economic_rules: PolicyRules) -> "Policy":
        """`always-on`, `economic` (the site's automatic policy) or `threshold:<£/MWh>`."""
        if text == "always-on":
            return Policy("always-on")
        if text == "economic":
            return Policy("economic", rules=economic_rules)
        if text.startswith("threshold:"):
            value = Decimal(text.split(":", 1)[1])
            return Policy(text, threshold_gbp_per_mwh=value)
        raise ValueError(f"unknown policy {text!r}: always-on, economic or threshold:<£/MWh>")


@dataclass
class DayFigures:
    curtailed_mwh: Decimal = Decimal(0)
    saved_gbp: Decimal = Decimal(0)
    btc_forgone: Decimal = Decimal(0)
    forgone_gbp: Decimal = Decimal(0)

    @property
    def net_gbp(self) -> Decimal:
        return self.saved_gbp - self.forgone_gbp

    def add(self, other: "DayFigures") -> None:
        self.curtailed_mwh += other.curtailed_mwh
        self.saved_gbp += other.saved_gbp
        self.btc_forgone += other.btc_forgone
        self.forgone_gbp += other.forgone_gbp


@dataclass
class PolicyResult:
    policy: str
    totals: DayFigures = field(default_factory=DayFigures)
    by_day: dict[date, DayFigures] = field(default_factory=dict)
    curtailed_periods: int = 0
    changes: int = 0
    """Times a model was switched off or back on (flapping shows here)."""


@dataclass(frozen=True)
class BacktestReport:
    results: tuple[PolicyResult, ...]
    periods_evaluated: int
    periods_skipped: Mapping[str, int]


def _missing(period: PricedPeriod, history: History) -> str | None:
    day = period.start.date()
    if period.price_gbp_per_mwh is None:
        return "no power price"
    if day not in history.difficulty:
        return "no difficulty"
    if day not in history.btc_price_gbp:
        return "no BTC price"
    return None


class _PolicyRun:
    def __init__(self, policy: Policy, fleet: Sequence[FleetModel]) -> None:
        self.policy = policy
        self.result = PolicyResult(policy.name)
        self.states = {model.spec.name: RunState(False, None) for model in fleet}

    def curtails(self, model: ModelSpec, period: PricedPeriod, market: MarketMoment) -> bool:
        price = period.price_gbp_per_mwh
        assert price is not None
        if self.policy.threshold_gbp_per_mwh is not None:
            return price > self.policy.threshold_gbp_per_mwh
        if self.policy.rules is None:
            return False
        state = self.states[model.name]
        inputs = decision_inputs(model, period.start, price, "market_index", market)
        decision = decide(inputs, state, self.policy.rules, period.start)
        self.states[model.name] = next_state(state, decision, period.start)
        if decision.action in (Action.CURTAIL, Action.RESUME):
            self.result.changes += 1
        return decision.curtailed_after


def period_figures(model: FleetModel, period: PricedPeriod, market: MarketMoment) -> DayFigures:
    """What curtailing all of one model's miners for one half hour saves and forgoes."""
    assert period.price_gbp_per_mwh is not None
    energy = model.miners * model.spec.power_w * HOURS_PER_PERIOD / WATTS_PER_MW
    btc = btc_mined(
        energy, model.spec.hashrate_ths, model.spec.power_w, market.difficulty, market.block_reward_btc
    )
    return DayFigures(energy, energy * period.price_gbp_per_mwh, btc, btc * market.btc_price_gbp)


def backtest(
    history: History,
    fleet: Sequence[FleetModel],
    policies: Sequence[Policy],
    on_period: Callable[[PricedPeriod], None] = lambda period: None,
) -> BacktestReport:
    runs = [_PolicyRun(policy, fleet) for policy in policies]
    skipped: Counter[str] = Counter()
    evaluated = 0
    for period in sorted(history.periods, key=lambda p: p.start):
        on_period(period)
        if (reason := _missing(period, history)) is not None:
            skipped[reason] += 1
            continue
        evaluated += 1
        day = period.start.date()
        market = MarketMoment(
            history.difficulty[day], block_reward_btc(period.start), history.btc_price_gbp[day], period.start
        )
        for run in runs:
            any_curtailed = False
            for model in fleet:
                if not run.curtails(model.spec, period, market):
                    continue
                figures = period_figures(model, period, market)
                run.result.totals.add(figures)
                run.result.by_day.setdefault(day, DayFigures()).add(figures)
                any_curtailed = True
            run.result.curtailed_periods += any_curtailed
    return BacktestReport(tuple(run.result for run in runs), evaluated, dict(skipped))
