"""The cgminer RPC client against the fleet simulator over real loopback TCP: the four telemetry commands,
LuxOS curtailment (power drops asleep and comes back awake), and every injected fault as a named failure."""

import random
from collections.abc import Iterator

import pytest
from windhash_common.miner_rpc import CgminerRpc, MinerEndpoint, RpcError
from windhash_common.miner_rpc.luxos_control import curtail
from windhash_fleet_sim.fleet import FleetSpec
from windhash_fleet_sim.server import FleetSimServer
from windhash_fleet_sim.sim_miner import MinerFaults

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim() -> Iterator[FleetSimServer]:
    # A block of 127.0.0.0/8 of its own, so concurrent test sessions never share an address.
    base = f"127.{random.randint(64, 250)}.{random.randint(0, 250)}.1"
    with FleetSimServer(FleetSpec(miners=20, base_address=base, seed=11)) as server:
        yield server


def _endpoint(sim: FleetSimServer, index: int) -> MinerEndpoint:
    miner = sim.miners[index]
    return MinerEndpoint(miner.host, miner.port)


def test_the_simulator_listens_on_loopback_addresses_only(sim: FleetSimServer) -> None:
    listening = sim.listening_addresses()
    assert len(listening) == 21  # 20 miners and the control API
    assert all(host.startswith("127.") for host, _ in listening)
    with pytest.raises(ValueError, match="loopback"):
        FleetSpec(miners=1, base_address="10.0.0.1")
    with pytest.raises(ValueError, match="loopback"):
        FleetSimServer(FleetSpec(miners=1), control_host="0.0.0.0")


async def test_summary_stats_devs_and_pools_answer_in_the_firmwares_shapes(sim: FleetSimServer) -> None:
    rpc = CgminerRpc(timeout_s=2)
    endpoint = _endpoint(sim, 0)
    assert (await rpc.summary(endpoint))["SUMMARY"][0]["GHS 5s"] > 0
    stats = (await rpc.stats(endpoint))["STATS"]
    assert stats[1]["fan_num"] == 4 and "temp_max" in stats[1]
    assert len((await rpc.devs(endpoint))["DEVS"]) == 3
    assert (await rpc.pools(endpoint))["POOLS"][0]["Status"] == "Alive"
    with pytest.raises(RpcError, match="Invalid command") as refused:
        await rpc.command(endpoint, "rm")
    assert refused.value.reason == "error_status"


async def test_curtail_sleep_drops_power_and_hashrate_and_wakeup_restores_them(sim: FleetSimServer) -> None:
    rpc = CgminerRpc(timeout_s=2)
    endpoint, miner = _endpoint(sim, 1), sim.miners[1]
    awake = await rpc.commands(endpoint, ("summary", "power"))
    assert awake["power"]["POWER"][0]["Watts"] > 0.9 * miner.model.power_w

    await curtail(rpc, endpoint, "sleep")
    await curtail(rpc, endpoint, "sleep")  # idempotent
    asleep = await rpc.commands(endpoint, ("summary", "power", "config"))
    assert asleep["summary"]["SUMMARY"][0]["GHS 5s"] == 0
    assert asleep["power"]["POWER"][0]["Watts"] < 0.02 * miner.model.power_w
    assert asleep["config"]["CONFIG"][0]["CurtailMode"] == "Sleep"
    assert sim.sleeping(miner.serial)

    await curtail(rpc, endpoint, "wakeup")
    woken = await rpc.commands(endpoint, ("summary", "power"))
    assert woken["summary"]["SUMMARY"][0]["GHS 5s"] > 0.95 * miner.model.hashrate_ths * 1000
    assert not sim.sleeping(miner.serial)


async def test_curtail_without_the_session_is_refused(sim: FleetSimServer) -> None:
    rpc = CgminerRpc(timeout_s=2)
    with pytest.raises(RpcError, match="Invalid session id"):
        await rpc.command(_endpoint(sim, 2), "curtail", "not-a-session,sleep")
    assert not sim.sleeping(sim.miners[2].serial)


@pytest.mark.parametrize(
    ("faults", "reason"),
    [
        (MinerFaults(offline=True), "refused"),
        (MinerFaults(slow_s=1.0), "timeout"),
        (MinerFaults(malformed="truncated"), "not_json"),
        (MinerFaults(malformed="garbage"), "not_utf8"),
        (MinerFaults(malformed="nan"), "not_finite"),
        (MinerFaults(malformed="no_status"), "bad_shape"),
        (MinerFaults(malformed="huge"), "too_large"),
    ],
)
async def test_each_injected_fault_is_a_failure_with_its_reason_and_clears(
    sim: FleetSimServer, faults: MinerFaults, reason: str
) -> None:
    rpc = CgminerRpc(timeout_s=0.5, max_reply_bytes=64 * 1024)
    endpoint, serial = _endpoint(sim, 3), sim.miners[3].serial
    sim.set_faults(serial, faults)
    try:
        with pytest.raises(RpcError) as failed:
            await rpc.commands(endpoint, ("summary", "stats"))
        assert failed.value.reason == reason
    finally:
        sim.set_faults(serial, MinerFaults())
    assert (await rpc.summary(endpoint))["SUMMARY"]
