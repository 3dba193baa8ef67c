"""One poll of the collector against fakes: retries with backoff only for no answer, one try for an offline
miner, invalid readings dead-lettered with their reason, good ones published."""

from typing import Any, cast

import asyncpg
from windhash_common.events import DeadLetter
from windhash_common.events_fleet import MinerTelemetryEvent
from windhash_common.miner_rpc import CgminerRpc, MinerEndpoint, RpcError
from windhash_fleet.settings import FleetSettings
from windhash_fleet.shard_collector import HostedMiner, ShardCollector
from windhash_fleet_sim.fleet import FleetSpec, build_miners
from windhash_fleet_sim.replies import request_reply


class FakeRpc:
    def __init__(self, answers: list[dict[str, dict[str, Any]] | RpcError]) -> None:
        self.answers = answers
        self.calls = 0

    async def commands(self, endpoint: MinerEndpoint, commands: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if isinstance(answer, RpcError):
            raise answer
        return answer


class MemorySink:
    def __init__(self) -> None:
        self.telemetry: list[MinerTelemetryEvent] = []
        self.dead: list[DeadLetter] = []

    async def publish_telemetry(self, event: MinerTelemetryEvent) -> None:
        self.telemetry.append(event)

    async def publish_dead_letter(self, letter: DeadLetter, key: bytes) -> None:
        self.dead.append(letter)


SETTINGS = FleetSettings(fleet_rpc_attempts=3, fleet_rpc_backoff_s=0.001)
SIM_MINER = build_miners(FleetSpec(miners=1))[0]


def _miner(status: str = "active") -> HostedMiner:
    return HostedMiner(1, SIM_MINER.serial, 1, status, MinerEndpoint("127.0.0.1", 4028))  # type: ignore[arg-type]


def _collector(rpc: FakeRpc, sink: MemorySink) -> ShardCollector:
    return ShardCollector(SETTINGS, cast(asyncpg.Pool, None), sink, 0, rpc=cast(CgminerRpc, rpc))


def _replies() -> dict[str, dict[str, Any]]:
    joined = request_reply(SIM_MINER, {"command": "summary+stats+power+config"})
    return {name: joined[name][0] for name in ("summary", "stats", "power", "config")}


async def test_a_refused_poll_is_retried_and_a_later_answer_is_published() -> None:
    rpc, sink = FakeRpc([RpcError("refused", "x"), RpcError("timeout", "x"), _replies()]), MemorySink()
    result = await _collector(rpc, sink)._read(_miner())
    assert (result.outcome, result.answered, rpc.calls) == ("ok", True, 3)
    assert [event.miner_serial for event in sink.telemetry] == [SIM_MINER.serial]


async def test_an_offline_miner_gets_one_try_and_a_malformed_reply_no_retry() -> None:
    rpc, sink = FakeRpc([RpcError("refused", "x")]), MemorySink()
    result = await _collector(rpc, sink)._read(_miner("offline"))
    assert (result.outcome, result.answered, rpc.calls) == ("refused", False, 1)

    rpc = FakeRpc([RpcError("not_json", "x")])
    result = await _collector(rpc, sink)._read(_miner())
    assert (result.outcome, result.answered, rpc.calls) == ("not_json", True, 1)
    assert sink.telemetry == []


async def test_a_reading_outside_the_schema_is_dead_lettered_with_its_reason() -> None:
    replies = _replies()
    replies["power"]["POWER"][0]["Watts"] = -40.0
    sink = MemorySink()
    result = await _collector(FakeRpc([replies]), sink)._read(_miner())
    assert (result.outcome, result.answered) == ("invalid", True)
    assert sink.telemetry == [] and len(sink.dead) == 1
    assert "power_w" in sink.dead[0].reason and '"Watts": -40.0' in sink.dead[0].payload


async def test_an_answer_that_says_asleep_is_reported_as_asleep() -> None:
    replies = _replies()
    replies["config"]["CONFIG"][0]["CurtailMode"] = "Sleep"
    result = await _collector(FakeRpc([replies]), MemorySink())._read(_miner("offline"))
    assert (result.outcome, result.answered, result.asleep) == ("ok", True, True)
    awake = await _collector(FakeRpc([_replies()]), MemorySink())._read(_miner("offline"))
    assert awake.asleep is False
