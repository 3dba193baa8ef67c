"""The simulator keeps a record of the curtail commands each miner accepted (what an executor's tests count),
and its `ignore_curtail` fault accepts them while the miner keeps hashing."""

from windhash_fleet_sim.fleet import FleetSpec, build_miners
from windhash_fleet_sim.sim_miner import MinerFaults


def test_every_accepted_curtail_command_is_recorded_with_whether_it_changed_anything() -> None:
    miner = build_miners(FleetSpec(miners=1))[0]
    session = miner.logon()
    assert miner.curtail("wrong", "sleep") == "Invalid session id"
    for mode in ("sleep", "sleep", "wakeup"):
        assert miner.curtail(session, mode) is None
    assert [(c.mode, c.changed) for c in miner.commands] == [
        ("sleep", True),
        ("sleep", False),
        ("wakeup", True),
    ]
    assert not miner.sleeping


def test_a_miner_that_ignores_curtailment_accepts_the_command_and_keeps_hashing() -> None:
    miner = build_miners(FleetSpec(miners=1))[0]
    miner.faults = MinerFaults(ignore_curtail=True)
    assert miner.curtail(miner.logon(), "sleep") is None
    assert not miner.sleeping and miner.read().hashrate_ths > 0
    assert [(c.mode, c.changed) for c in miner.commands] == [("sleep", False)]
