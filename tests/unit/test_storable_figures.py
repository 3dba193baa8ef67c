"""What a period's derived figures may be for the columns and summaries that store them."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from windhash_common.bitcoin import MINED_HALVINGS
from windhash_common.curtailment_facts.rows import CurtailmentRow, RecordEnergy
from windhash_common.curtailment_facts.storable_figures import (
    PERIOD_BTC_LIMIT,
    PERIOD_CASHFLOW_LIMIT,
    PERIOD_ENERGY_LIMIT,
    bitcoin_problem,
    difficulty_problem,
    records_problem,
)
from windhash_common.miner_models import MinerModel

START = datetime(2024, 5, 1, 10, tzinfo=UTC)
MODELS = [MinerModel("S19J_PRO", "Bitmain", Decimal(100), Decimal(3050))]


def row(volume: str, cashflow: str) -> CurtailmentRow:
    day = date(2024, 5, 1)
    return (
        day,
        21,
        "T_A-1",
        1,
        -1,
        1,
        None,
        Decimal(volume),
        Decimal(-40),
        None,
        Decimal(cashflow),
        True,
        None,
    )


def energies(*volumes: str) -> list[RecordEnergy]:
    return [RecordEnergy("T_A-1", index, -1, Decimal(volume)) for index, volume in enumerate(volumes)]


def test_the_bounds_leave_a_day_of_fifty_such_periods_within_its_summaries() -> None:
    assert Decimal("1e10") == PERIOD_ENERGY_LIMIT * 50  # energy_mwh numeric(16, 6)
    assert Decimal("1e14") == PERIOD_CASHFLOW_LIMIT * 50  # cashflow_gbp numeric(18, 4)
    assert PERIOD_BTC_LIMIT * 50 * Decimal("1e7") == Decimal("1e18")  # value_gbp numeric(20, 2) at MAX_PRICE


@pytest.mark.parametrize(
    "value",
    [Decimal(0), Decimal(-1), Decimal("NaN"), Decimal("Infinity"), Decimal("1e28"), Decimal("1.00001")],
)
def test_a_difficulty_the_columns_cannot_hold_or_calculate_with_is_refused(value: Decimal) -> None:
    assert difficulty_problem(value) is not None
    assert bitcoin_problem(energies("-10"), MODELS, value, START, MINED_HALVINGS) is not None


def test_a_real_difficulty_and_a_real_period_are_storable() -> None:
    difficulty = Decimal("86388558925171.1234")
    assert difficulty_problem(difficulty) is None
    assert bitcoin_problem(energies("-400", "-250.5"), MODELS, difficulty, START, MINED_HALVINGS) is None
    assert records_problem([row("-400", "16000"), row("-250.5", "-10020")]) is None


def test_the_bitcoin_of_an_absurd_difficulty_is_refused_with_the_model_and_the_figure() -> None:
    problem = bitcoin_problem(energies("-10"), MODELS, Decimal("0.5"), START, MINED_HALVINGS)
    assert problem is not None and problem.startswith("S19J_PRO would mine") and "5E-1" in problem


def test_a_tiny_difficulty_is_refused_only_when_its_bitcoin_passes_the_bound() -> None:
    # A 10 MWh period on one S19J Pro mines ~8.6e5 BTC at difficulty 1e6 (within), ~8.6e9 at 1e2 (past).
    assert bitcoin_problem(energies("-10"), MODELS, Decimal("1e6"), START, MINED_HALVINGS) is None
    assert bitcoin_problem(energies("-10"), MODELS, Decimal("1e2"), START, MINED_HALVINGS) is not None


def test_a_period_whose_energy_or_cashflow_its_day_cannot_sum_is_refused() -> None:
    near = str(-(PERIOD_ENERGY_LIMIT / 2 + 1))
    problem = records_problem([row(near, "1"), row(near, "1")])
    assert problem is not None and "energy" in problem
    cash = str(PERIOD_CASHFLOW_LIMIT / 2 + 1)
    problem = records_problem([row("-1", cash), row("-1", "-" + cash)])
    assert problem is not None and "cashflow" in problem


def test_no_models_means_no_bitcoin_to_refuse() -> None:
    assert bitcoin_problem(energies("-10"), [], Decimal("0.5"), START, MINED_HALVINGS) is None
