"""The collector's pure rules: a poll's replies read into telemetry (or refused with a reason), and when a
miner's status changes."""

from datetime import UTC, datetime
from typing import Any

import pytest
from windhash_fleet.miner_reading import ReadingError, read_telemetry
from windhash_fleet.status_rules import StatusChange, status_change
from windhash_fleet_sim.fleet import FleetSpec, build_miners
from windhash_fleet_sim.replies import request_reply

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _poll_replies() -> tuple[str, dict[str, dict[str, Any]]]:
    miner = build_miners(FleetSpec(miners=1))[0]
    joined = request_reply(miner, {"command": "summary+stats+power+config"})
    return miner.serial, {name: joined[name][0] for name in ("summary", "stats", "power", "config")}


def test_a_simulated_poll_reads_into_the_reading_it_served() -> None:
    miner = build_miners(FleetSpec(miners=1))[0]
    joined = request_reply(miner, {"command": "summary+stats+power+config"})
    event = read_telemetry(miner.serial, {name: joined[name][0] for name in joined if name != "id"}, NOW)
    served = miner.served[-1]
    assert event.hashrate_ths == pytest.approx(served.hashrate_ths, abs=1e-5)
    assert (event.power_w, event.temperature_c) == (served.power_w, served.temperature_c)
    assert event.fan_rpm == round(sum(served.fan_rpms) / len(served.fan_rpms))
    assert event.fan_count == 4 and event.synthetic and not event.sleeping and event.recorded_at == NOW


@pytest.mark.parametrize(
    ("change", "outcome"),
    [
        (lambda r: r["config"]["CONFIG"][0].update(SerialNumber="OTHER-1"), "wrong_miner"),
        (lambda r: r["power"].pop("POWER"), "missing_field"),
        (lambda r: r["summary"]["SUMMARY"][0].update({"GHS 5s": "fast"}), "missing_field"),
        (lambda r: r["summary"]["SUMMARY"][0].update({"GHS 5s": -5.0}), "invalid"),
        (lambda r: r["stats"]["STATS"][1].update(temp_max=900.0), "invalid"),
        (lambda r: r["stats"]["STATS"][1].update(fan1=10**7), "invalid"),
    ],
)
def test_a_reply_that_is_not_a_keepable_reading_is_refused_with_its_outcome(
    change: Any, outcome: str
) -> None:
    serial, replies = _poll_replies()
    change(replies)
    with pytest.raises(ReadingError) as refused:
        read_telemetry(serial, replies, NOW)
    assert refused.value.outcome == outcome


def test_a_miner_goes_offline_after_enough_silent_polls_and_back_when_it_answers() -> None:
    assert status_change("active", answered=False, consecutive_failures=1, offline_after=2) is None
    assert status_change("active", False, 2, 2) == StatusChange("miner.offline", "active", "offline")
    assert status_change("curtailed", False, 3, 2) == StatusChange("miner.offline", "curtailed", "offline")
    assert status_change("offline", False, 9, 2) is None
    assert status_change("offline", True, 0, 2) == StatusChange("miner.online", "offline", "active")
    asleep = status_change("offline", True, 0, 2, asleep=True)
    assert asleep == StatusChange("miner.online", "offline", "curtailed"), "back as it reports itself"
    assert status_change("active", True, 0, 2) is None
    assert status_change("maintenance", False, 9, 2) is None  # an operator's status
    assert status_change("maintenance", True, 0, 2) is None
    assert status_change("retired", False, 9, 2) is None
    assert status_change("retired", True, 0, 2) is None
