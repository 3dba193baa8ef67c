"""The fleet simulator's miners without sockets: loopback addresses, faults drawn from the seed, model-true
readings within the documented noise, sleep."""

import pytest
from windhash_fleet_sim.fleet import FleetSpec, addresses, build_miners
from windhash_fleet_sim.replies import encode, request_reply
from windhash_fleet_sim.sim_miner import MinerFaults


def test_addresses_stay_in_loopback_and_skip_network_and_broadcast_like_octets() -> None:
    found = addresses("127.5.0.250", 10)
    assert found[:5] == ["127.5.0.250", "127.5.0.251", "127.5.0.252", "127.5.0.253", "127.5.0.254"]
    assert found[5] == "127.5.1.1"
    with pytest.raises(ValueError, match="loopback"):
        addresses("192.168.1.10", 1)
    with pytest.raises(ValueError, match="past the loopback network"):
        addresses("127.255.255.250", 10)


def test_the_same_seed_makes_the_same_faulty_miners_and_another_seed_others() -> None:
    def faulty(seed: int) -> list[int]:
        spec = FleetSpec(miners=400, seed=seed, fault_fractions={"offline": 0.05, "overheating": 0.05})
        return [miner.index for miner in build_miners(spec) if miner.faults != MinerFaults()]

    assert faulty(1) == faulty(1)
    assert faulty(1) != faulty(2)
    assert 10 < len(faulty(1)) < 70


def test_readings_are_model_true_within_the_noise_and_asleep_draw_only_the_control_board() -> None:
    miners = build_miners(FleetSpec(miners=8, seed=3))
    for miner in miners:
        for _ in range(50):
            reading = miner.read()
            assert abs(reading.hashrate_ths / miner.model.hashrate_ths - 1) <= 0.046
            assert abs(reading.power_w / miner.model.power_w - 1) <= 0.08
            assert 58 <= reading.temperature_c <= 72
    miner = miners[0]
    miner.curtail(miner.logon(), "sleep")
    asleep = miner.read()
    assert asleep.sleeping and asleep.hashrate_ths == 0 and asleep.power_w < 30
    assert list(miner.served)[-1] == asleep  # the record of what was served


def test_a_joined_request_reports_one_reading_in_every_section_and_says_synthetic() -> None:
    miner = build_miners(FleetSpec(miners=1))[0]
    reply = request_reply(miner, {"command": "summary+stats+power+config"})
    reading = miner.served[-1]
    assert reply["summary"][0]["SUMMARY"][0]["GHS 5s"] == round(reading.hashrate_ths * 1000, 2)
    assert reply["power"][0]["POWER"][0]["Watts"] == reading.power_w
    assert reply["stats"][0]["STATS"][1]["temp_max"] == reading.temperature_c
    assert reply["config"][0]["CONFIG"][0]["Synthetic"] is True
    assert b"SYNTHETIC" in encode(reply) and encode(reply).endswith(b"\0")
    assert len(miner.served) == 1
