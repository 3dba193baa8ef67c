"""Reading Elexon's FUELHH and AGWS rows into per-period wind output: wind rows only, a bad row skipped with
its reason and the rest kept; and the share and CO₂ arithmetic."""

from datetime import date
from decimal import Decimal
from typing import Any

from windhash_api.context_figures import co2_avoided_t, curtailed_share
from windhash_ingestor.wind_output import DayWind, read_fuel_outturn, read_wind_and_solar

DAY = date(2024, 3, 31)  # 46 periods


def fuel(
    period: object, generation: object, fuel_type: str = "WIND", day: str = "2024-03-31"
) -> dict[str, Any]:
    return {
        "settlementDate": day,
        "settlementPeriod": period,
        "fuelType": fuel_type,
        "generation": generation,
    }


def test_only_wind_rows_are_read_and_bad_ones_are_skipped_with_a_reason() -> None:
    day = DayWind(DAY)
    rows: list[Any] = [
        fuel(1, 8000),
        fuel(1, 9000, "CCGT"),
        fuel(2, "NaN"),
        fuel(47, 100),  # a 46-period day
        fuel(3, 100, day="2024-03-30"),
        fuel(4, -5),
        fuel(5, -0.4),  # metering noise: no output
        "not a row",
    ]
    read_fuel_outturn(day, rows)
    assert {period: wind.metered_mw for period, wind in day.periods.items()} == {
        1: Decimal(8000),
        5: Decimal(0),
    }
    assert len(day.skipped) == 5 and any("no settlement period 47" in reason for reason in day.skipped)


def test_agws_offshore_and_onshore_fill_the_same_period() -> None:
    day = DayWind(DAY)
    rows: list[Any] = [
        {
            "settlementDate": "2024-03-31",
            "settlementPeriod": 3,
            "psrType": "Wind Offshore",
            "quantity": 4000.5,
        },
        {"settlementDate": "2024-03-31", "settlementPeriod": 3, "psrType": "Wind Onshore", "quantity": 2000},
        {"settlementDate": "2024-03-31", "settlementPeriod": 3, "psrType": "Solar", "quantity": 900},
    ]
    read_wind_and_solar(day, rows)
    wind = day.periods[3]
    assert (wind.offshore_mw, wind.onshore_mw, wind.metered_mw) == (Decimal("4000.5"), Decimal(2000), None)
    assert day.skipped == []


def test_the_share_is_curtailed_over_what_the_wind_could_have_given() -> None:
    assert curtailed_share(Decimal(25), Decimal(75)) == Decimal("0.25")
    assert curtailed_share(Decimal(25), None) is None
    assert curtailed_share(Decimal(0), Decimal(0)) is None
    assert co2_avoided_t(Decimal("1000.5"), Decimal("0.366")) == Decimal("366.183")
