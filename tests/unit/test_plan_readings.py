"""Which telemetry readings measure a plan's shutdown (`shutdown_measurement.miner_powers`)."""

from datetime import UTC, datetime, timedelta

from windhash_plans.shutdown_measurement import Reading, SleptMiner, miner_powers

STARTED = datetime(2024, 3, 30, 12, tzinfo=UTC)
SLEPT = STARTED + timedelta(seconds=10)
SETTLE = timedelta(seconds=5)


def at(seconds: float, power_w: float, sleeping: bool = False) -> Reading:
    return Reading(STARTED + timedelta(seconds=seconds), power_w, sleeping)


def test_before_is_the_miners_awake_readings_before_the_start_and_after_is_after_the_settling() -> None:
    readings = {
        1: [at(-300, 3000), at(-200, 3100), at(0, 3050), at(12, 900), at(15, 25), at(20, 27)],
        2: [at(-100, 3500)],
    }
    miners = [SleptMiner(1, "A", SLEPT), SleptMiner(2, "B", SLEPT)]
    a, b = miner_powers(readings, miners, STARTED, SETTLE)
    assert (list(a.before_w), list(a.after_w)) == ([3000, 3100], [25, 27])
    assert (list(b.before_w), list(b.after_w)) == ([3500], [])


def test_an_earlier_plans_sleep_inside_the_window_is_not_power_before() -> None:
    # Slept by a plan 4 minutes earlier, woken 2 minutes later: its sleeping readings are not what it draws.
    readings = {1: [at(-280, 3100), at(-240, 25, True), at(-180, 24, True), at(-120, 3080), at(-60, 3120)]}
    [power] = miner_powers(readings, [SleptMiner(1, "A", SLEPT)], STARTED, SETTLE)
    assert list(power.before_w) == [3100, 3080, 3120]
