"""Measuring a shutdown from telemetry: before and after per miner, the plan confirmed only when its power
really fell, and failed with the miners that did not drop or could not be measured."""

from decimal import Decimal

from windhash_plans.domain.command_schedule import next_send_at, recovery_schedule, shutdown_schedule
from windhash_plans.domain.power_measurement import MinerPower, measure


def test_a_shutdown_that_drops_is_confirmed_with_the_measured_reduction() -> None:
    result = measure(
        [MinerPower("A", [3000, 3100], [25, 27]), MinerPower("B", [3500], [24])], Decimal("0.006")
    )
    assert result.confirmed and result.reason is None
    assert result.before_mw == Decimal("0.00655") and result.after_mw == Decimal("0.00005")
    assert result.reduced_mw == Decimal("0.0065")


def test_miners_that_do_not_drop_fail_the_plan_and_are_named() -> None:
    result = measure(
        [MinerPower("A", [3000], [25]), MinerPower("B", [3500], [3480]), MinerPower("C", [3000], [])],
        Decimal("0.009"),
    )
    assert not result.confirmed
    assert result.reduced_mw == Decimal("0.002995")
    assert result.reason is not None
    assert "did not drop: B" in result.reason and "no telemetry: C" in result.reason


def test_no_telemetry_at_all_is_a_failure_never_an_assumed_drop() -> None:
    result = measure([MinerPower("A", [], [25]), MinerPower("B", [3000], [])], Decimal("0.001"))
    assert not result.confirmed and result.reduced_mw == 0
    assert result.reason == "no miner could be measured: no telemetry before and after the shutdown"


def test_shutdowns_are_staggered_and_recoveries_go_in_reverse() -> None:
    from datetime import UTC, datetime, timedelta

    start, stagger = datetime(2024, 3, 1, tzinfo=UTC), timedelta(seconds=5)
    down = shutdown_schedule([7, 3, 9], start, stagger)
    assert [(c.miner_id, c.sequence, c.due_at - start) for c in down] == [
        (7, 1, timedelta(0)),
        (3, 2, timedelta(seconds=5)),
        (9, 3, timedelta(seconds=10)),
    ]
    up = recovery_schedule([7, 3, 9], start, stagger)
    assert [(c.miner_id, c.command, c.sequence) for c in up] == [
        (9, "wakeup", 1),
        (3, "wakeup", 2),
        (7, "wakeup", 3),
    ]
    assert next_send_at(start, start + timedelta(seconds=2), stagger) == start + timedelta(seconds=7)
    assert next_send_at(start + timedelta(seconds=9), start, stagger) == start + timedelta(seconds=9)
