"""Choosing a plan's miners: least efficient first, then hottest, only active miners, a client's minimum kept,
enough power to reach the target."""

import uuid
from decimal import Decimal

import pytest
from windhash_plans.domain.miner_choice import Candidate, available_mw, choose_miners

ACME = uuid.UUID(int=1)
BETA = uuid.UUID(int=2)


def miner(
    serial: str,
    model: str = "S19J_PRO",
    status: str = "active",
    client: uuid.UUID | None = None,
    power: str = "3050",
    hashrate: str = "100",
    reading_power: str | None = None,
    reading_hashrate: str | None = None,
    temperature: str | None = None,
) -> Candidate:
    return Candidate(
        miner_id=int(serial.split("-")[-1]),
        serial=serial,
        model=model,
        status=status,
        client_id=client,
        nameplate_power_w=Decimal(power),
        nameplate_hashrate_ths=Decimal(hashrate),
        power_w=None if reading_power is None else Decimal(reading_power),
        hashrate_ths=None if reading_hashrate is None else Decimal(reading_hashrate),
        temperature_c=None if temperature is None else Decimal(temperature),
    )


def serials(choice: object) -> list[str]:
    return [chosen.candidate.serial for chosen in choice.chosen]  # type: ignore[attr-defined]


def test_least_efficient_first_then_hottest_then_by_serial() -> None:
    fleet = [
        miner("M-1", "S21", power="3500", hashrate="200"),  # 17.5 J/TH
        miner("M-2", temperature="70"),  # 30.5 J/TH
        miner("M-3", temperature="80"),  # 30.5 J/TH, hotter
        miner("M-4", "S9", power="1323", hashrate="13.5"),  # 98 J/TH
        miner("M-5"),  # 30.5 J/TH, no reading: coolest
    ]
    choice = choose_miners(fleet, Decimal("100"))
    assert serials(choice) == ["M-4", "M-3", "M-2", "M-5", "M-1"]
    assert [chosen.shutdown_order for chosen in choice.chosen] == [1, 2, 3, 4, 5]
    assert not choice.reaches_target and choice.shortfall_mw > 0


def test_measured_efficiency_beats_the_nameplate() -> None:
    worn = miner("M-1", "S21", power="3500", hashrate="200", reading_power="3400", reading_hashrate="100")
    fresh = miner("M-2")
    assert serials(choose_miners([fresh, worn], Decimal("0.001"))) == ["M-1"]  # 34 J/TH measured


def test_stops_once_the_target_is_reached() -> None:
    fleet = [miner(f"M-{n}") for n in range(1, 11)]
    choice = choose_miners(fleet, Decimal("0.009"))
    assert serials(choice) == ["M-1", "M-10", "M-2"]  # 3 × 3.05 kW ≥ 9 kW; ties by serial text
    assert choice.reached_mw == Decimal("0.00915") and choice.reaches_target


def test_never_a_miner_in_maintenance_retired_offline_or_already_asleep() -> None:
    fleet = [
        miner("M-1", status="maintenance"),
        miner("M-2", status="retired"),
        miner("M-3", status="offline"),
        miner("M-4", status="curtailed"),
        miner("M-5"),
    ]
    choice = choose_miners(fleet, Decimal("1"))
    assert serials(choice) == ["M-5"]
    assert choice.passed_over == {
        "M-1": "status maintenance",
        "M-2": "status retired",
        "M-3": "status offline",
        "M-4": "status curtailed",
    }


def test_a_clients_minimum_keeps_that_many_of_its_miners_running() -> None:
    fleet = [miner(f"M-{n}", client=ACME) for n in range(1, 6)] + [miner("M-9", client=BETA)]
    choice = choose_miners(fleet, Decimal("1"), {ACME: 3})
    assert serials(choice) == ["M-1", "M-2", "M-9"]
    assert choice.passed_over["M-3"] == "client minimum of 3 running"
    assert available_mw(fleet, {ACME: 3}) == Decimal("0.00915")


def test_a_miners_current_power_counts_when_it_is_hashing() -> None:
    choice = choose_miners([miner("M-1", reading_power="2900", reading_hashrate="95")], Decimal("0.0029"))
    assert choice.reached_mw == Decimal("0.0029") and choice.reaches_target


def test_a_target_must_be_positive() -> None:
    with pytest.raises(ValueError):
        choose_miners([miner("M-1")], Decimal(0))
