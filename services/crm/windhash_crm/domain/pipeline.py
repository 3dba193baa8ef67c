"""The sales pipeline's rules: lead statuses, deal stages, their default win probabilities, the forecast.

Leads: new → contacted → qualified, in any order, and lost (and back again, when a lost prospect returns);
`converted` only by converting the lead into a deal, and final.

Deals: discovery → proposal → negotiation → closed_won / closed_lost, moving freely between the open stages;
a closed deal is final (a returning client is a new lead). Each stage has a default probability of winning,
used unless the deal's owner sets one for an open deal; a won deal is certain (100) and a lost one
impossible (0).

Forecast: an open deal is expected to bring value × probability / 100 in the month of its expected close
date (the weighted forecast by month); the pipeline by stage sums value and weighted value per stage (a
weighted value is rounded to the cent half-even, as money is throughout windhash: `money.to_penny`).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, get_args

from windhash_common.money import to_penny

DealStage = Literal["discovery", "proposal", "negotiation", "closed_won", "closed_lost"]
LeadStatus = Literal["new", "contacted", "qualified", "converted", "lost"]

DEAL_STAGES: tuple[DealStage, ...] = get_args(DealStage)
OPEN_STAGES: tuple[DealStage, ...] = ("discovery", "proposal", "negotiation")
CLOSED_STAGES: tuple[DealStage, ...] = ("closed_won", "closed_lost")
DEFAULT_PROBABILITY: dict[DealStage, int] = {
    "discovery": 10,
    "proposal": 30,
    "negotiation": 60,
    "closed_won": 100,
    "closed_lost": 0,
}
LEAD_STATUSES: tuple[LeadStatus, ...] = get_args(LeadStatus)
WORKABLE_LEAD_STATUSES: tuple[LeadStatus, ...] = ("new", "contacted", "qualified", "lost")


class PipelineRuleBroken(ValueError):
    """A change the pipeline's rules do not allow; the message says which rule."""


@dataclass(frozen=True)
class StageChange:
    stage_from: DealStage
    stage_to: DealStage
    probability: int

    @property
    def closes(self) -> bool:
        return self.stage_to in CLOSED_STAGES


def stage_change(current: DealStage, wanted: DealStage, probability: int | None) -> StageChange:
    """The change of a deal in `current` to `wanted`, with the probability it will carry."""
    if current in CLOSED_STAGES:
        raise PipelineRuleBroken(f"the deal is {current}: a closed deal is final")
    if wanted == current:
        raise PipelineRuleBroken(f"the deal is in {current} already")
    return StageChange(current, wanted, deal_probability(wanted, probability))


def deal_probability(stage: DealStage, requested: int | None) -> int:
    """The probability a deal in `stage` carries: the requested one for an open deal, else the default."""
    if stage in CLOSED_STAGES:
        if requested is not None and requested != DEFAULT_PROBABILITY[stage]:
            raise PipelineRuleBroken(f"a {stage} deal has probability {DEFAULT_PROBABILITY[stage]}")
        return DEFAULT_PROBABILITY[stage]
    if requested is None:
        return DEFAULT_PROBABILITY[stage]
    if not 0 <= requested <= 100:
        raise PipelineRuleBroken("a probability is 0 to 100")
    return requested


def lead_status_change(current: LeadStatus, wanted: LeadStatus) -> LeadStatus:
    """A lead's new status set by hand (conversion has its own route)."""
    if current == "converted":
        raise PipelineRuleBroken("the lead is converted: its deal carries it on")
    if wanted == "converted":
        raise PipelineRuleBroken("a lead is converted by converting it into a deal (POST .../convert)")
    return wanted


def may_convert(status: LeadStatus) -> None:
    if status == "converted":
        raise PipelineRuleBroken("the lead is converted already")
    if status == "lost":
        raise PipelineRuleBroken("the lead is lost: set it back to contacted or qualified first")


def weighted_value(value_usd: Decimal, probability: int) -> Decimal:
    """value × probability / 100, to the cent."""
    return to_penny(value_usd * probability / 100)


@dataclass(frozen=True)
class DealFigures:
    stage: DealStage
    value_usd: Decimal
    probability: int
    expected_close_date: date


@dataclass(frozen=True)
class StageTotal:
    stage: DealStage
    deals: int
    value_usd: Decimal
    weighted_usd: Decimal


@dataclass(frozen=True)
class MonthForecast:
    month: str
    """YYYY-MM of the expected close dates."""
    deals: int
    value_usd: Decimal
    weighted_usd: Decimal


def pipeline_by_stage(deals: Iterable[DealFigures]) -> list[StageTotal]:
    """Every stage in pipeline order, with its deals' count, value and weighted value (zeros included)."""
    by_stage: dict[DealStage, list[DealFigures]] = {stage: [] for stage in DEAL_STAGES}
    for deal in deals:
        by_stage[deal.stage].append(deal)
    return [StageTotal(stage, *_totals(group)) for stage, group in by_stage.items()]


def forecast_by_month(deals: Iterable[DealFigures]) -> list[MonthForecast]:
    """The open deals' weighted value by month of expected close, months in order (closed deals are not a
    forecast: they are won or lost)."""
    by_month: dict[str, list[DealFigures]] = {}
    for deal in deals:
        if deal.stage in OPEN_STAGES:
            by_month.setdefault(deal.expected_close_date.strftime("%Y-%m"), []).append(deal)
    return [MonthForecast(month, *_totals(group)) for month, group in sorted(by_month.items())]


def _totals(deals: list[DealFigures]) -> tuple[int, Decimal, Decimal]:
    value = sum((deal.value_usd for deal in deals), Decimal(0))
    weighted = sum((weighted_value(deal.value_usd, deal.probability) for deal in deals), Decimal(0))
    return len(deals), value, weighted
