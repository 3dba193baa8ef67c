from decimal import Decimal

import pytest
from windhash_common.money import cashflow_to_farm_gbp, curtailed_energy_mwh


def test_bid_at_negative_price_pays_the_farm() -> None:
    # -12.5 MWh accepted at -£40/MWh: the system operator pays the farm £500 to switch off.
    assert cashflow_to_farm_gbp(Decimal("-12.5"), Decimal("-40")) == Decimal("500.0000")


def test_bid_at_positive_price_is_paid_by_the_farm() -> None:
    assert cashflow_to_farm_gbp(Decimal("-2"), Decimal("15.25")) == Decimal("-30.5000")


def test_curtailed_energy_is_positive() -> None:
    assert curtailed_energy_mwh(Decimal("-3.75")) == Decimal("3.75")


def test_a_positive_volume_is_not_curtailment() -> None:
    with pytest.raises(ValueError, match="negative volume"):
        curtailed_energy_mwh(Decimal("1"))
