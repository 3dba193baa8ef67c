"""Deal stages, their probabilities, lead statuses and the weighted forecast, as pure functions."""

from datetime import date
from decimal import Decimal

import pytest
from windhash_crm.domain.pipeline import (
    DealFigures,
    PipelineRuleBroken,
    deal_probability,
    forecast_by_month,
    lead_status_change,
    may_convert,
    pipeline_by_stage,
    stage_change,
    weighted_value,
)


def test_a_stage_brings_its_default_probability_unless_an_open_one_is_given() -> None:
    assert stage_change("discovery", "proposal", None).probability == 30
    assert stage_change("proposal", "negotiation", 75).probability == 75
    assert stage_change("negotiation", "discovery", None).probability == 10
    won = stage_change("negotiation", "closed_won", None)
    assert (won.probability, won.closes) == (100, True)
    assert stage_change("proposal", "closed_lost", 0).probability == 0


@pytest.mark.parametrize(
    ("current", "wanted", "probability", "message"),
    [
        ("closed_won", "proposal", None, "final"),
        ("closed_lost", "closed_won", None, "final"),
        ("proposal", "proposal", None, "already"),
        ("proposal", "closed_won", 90, "probability 100"),
        ("proposal", "closed_lost", 5, "probability 0"),
    ],
)
def test_closed_deals_are_final_and_certain(
    current: str, wanted: str, probability: int | None, message: str
) -> None:
    with pytest.raises(PipelineRuleBroken, match=message):
        stage_change(current, wanted, probability)  # type: ignore[arg-type]


def test_a_probability_is_a_percentage() -> None:
    with pytest.raises(PipelineRuleBroken):
        deal_probability("proposal", 101)


def test_lead_statuses_move_freely_until_converted_which_only_conversion_does() -> None:
    assert lead_status_change("lost", "contacted") == "contacted"
    with pytest.raises(PipelineRuleBroken, match="convert"):
        lead_status_change("qualified", "converted")
    with pytest.raises(PipelineRuleBroken, match="converted"):
        lead_status_change("converted", "new")
    may_convert("new")
    with pytest.raises(PipelineRuleBroken, match="lost"):
        may_convert("lost")


def test_the_weighted_value_is_rounded_to_the_cent_half_even() -> None:
    assert weighted_value(Decimal("10.05"), 50) == Decimal("5.02")
    assert weighted_value(Decimal("10.15"), 50) == Decimal("5.08")
    assert weighted_value(Decimal("999999999999.99"), 100) == Decimal("999999999999.99")


DEALS = [
    DealFigures("discovery", Decimal("1000"), 10, date(2026, 4, 30)),
    DealFigures("proposal", Decimal("2000"), 30, date(2026, 4, 1)),
    DealFigures("proposal", Decimal("3000"), 50, date(2026, 6, 15)),
    DealFigures("closed_won", Decimal("4000"), 100, date(2026, 4, 2)),
    DealFigures("closed_lost", Decimal("5000"), 0, date(2026, 4, 3)),
]


def test_the_pipeline_by_stage_lists_every_stage_in_order() -> None:
    rows = [(t.stage, t.deals, t.value_usd, t.weighted_usd) for t in pipeline_by_stage(DEALS)]
    assert rows == [
        ("discovery", 1, Decimal("1000"), Decimal("100.00")),
        ("proposal", 2, Decimal("5000"), Decimal("2100.00")),
        ("negotiation", 0, Decimal(0), Decimal(0)),
        ("closed_won", 1, Decimal("4000"), Decimal("4000.00")),
        ("closed_lost", 1, Decimal("5000"), Decimal("0.00")),
    ]


def test_the_forecast_weights_open_deals_by_month_of_expected_close() -> None:
    rows = [(m.month, m.deals, m.value_usd, m.weighted_usd) for m in forecast_by_month(DEALS)]
    assert rows == [
        ("2026-04", 2, Decimal("3000"), Decimal("700.00")),
        ("2026-06", 1, Decimal("3000"), Decimal("1500.00")),
    ]
    assert forecast_by_month([]) == []
