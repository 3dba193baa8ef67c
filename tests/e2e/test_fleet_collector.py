"""The fleet collector as its own OS processes against the simulator, real PostgreSQL and real Kafka:
two collectors share the shards without polling a miner twice; the telemetry on Kafka is what the simulator
served; a miner that stops answering goes offline through the outbox, and back online when it answers."""

import itertools
import time
from pathlib import Path

import asyncpg
import pytest
from windhash_common.events_fleet import MinerStatusChangedEvent, MinerTelemetryEvent
from windhash_common.topics import Topics
from windhash_fleet_sim.fleet import FleetSpec
from windhash_fleet_sim.server import FleetSimServer
from windhash_fleet_sim.sim_miner import MinerFaults, Reading
from windhash_stack import StackEndpoints
from windhash_testing.fleet_runs import (
    TopicReader,
    collectors,
    loopback_block,
    register_fleet,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


async def _fetch(dsn: str, query: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(dsn)
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


async def test_two_collectors_split_the_shards_and_never_poll_a_miner_twice_in_an_interval(
    service_env: dict[str, str], pg_dsn: str, tmp_path: Path
) -> None:
    interval = 2.0
    with FleetSimServer(FleetSpec(miners=120, base_address=loopback_block(), seed=5)) as sim:
        await register_fleet(pg_dsn, sim, Topics(service_env["WINDHASH_TOPIC_PREFIX"]))
        settings = {
            "WINDHASH_FLEET_POLL_INTERVAL_S": str(interval),
            "WINDHASH_FLEET_SHARD_COUNT": "2",
            "WINDHASH_FLEET_MAX_SHARDS": "1",
            "WINDHASH_FLEET_LEASE_TTL_S": "6",
        }
        processes = collectors(service_env, tmp_path, settings)
        try:
            processes.start("collector-a", "fleet", "collector")
            processes.start("collector-b", "fleet", "collector")

            async def each_holds_one_shard() -> bool:
                rows = await _fetch(
                    pg_dsn, "SELECT holder FROM scheduler_locks WHERE job_key LIKE 'fleet-collector/%'"
                )
                return len(rows) == 2 and len({row["holder"] for row in rows}) == 2

            await wait_for(each_holds_one_shard, 90, processes)
            since = time.time()

            async def four_polls_each() -> bool:
                return all(len([r for r in sim.served(m.serial) if r.at >= since]) >= 4 for m in sim.miners)

            await wait_for(four_polls_each, 90, processes)
            holders = await _fetch(pg_dsn, "SELECT job_key, pid FROM scheduler_locks ORDER BY job_key")
        finally:
            processes.stop_all()
        pids = {service.process.pid for service in processes.services.values() if service.process}
        assert [row["job_key"] for row in holders] == ["fleet-collector/shard-0", "fleet-collector/shard-1"]
        assert {row["pid"] for row in holders} == pids
        for miner in sim.miners:
            times = [reading.at for reading in sim.served(miner.serial) if reading.at >= since]
            gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
            # Two collectors polling one miner would answer twice within an interval.
            assert min(gaps) > interval / 2, (miner.serial, gaps)
    statuses = await _fetch(pg_dsn, "SELECT DISTINCT status FROM hosting_miners")
    assert [row["status"] for row in statuses] == ["active"]


def _same_reading(event: MinerTelemetryEvent, reading: Reading) -> bool:
    return (
        abs(event.hashrate_ths - reading.hashrate_ths) < 1e-6
        and event.power_w == reading.power_w
        and event.temperature_c == reading.temperature_c
        and event.fan_rpm == round(sum(reading.fan_rpms) / len(reading.fan_rpms))
        and event.sleeping == reading.sleeping
        and abs(event.recorded_at.timestamp() - reading.at) < 5
    )


async def test_telemetry_is_what_the_simulator_served_and_offline_miners_go_and_come_back(
    service_env: dict[str, str], pg_dsn: str, stack: StackEndpoints, tmp_path: Path
) -> None:
    spec = FleetSpec(
        miners=300,
        base_address=loopback_block(),
        seed=9,
        fault_fractions={"overheating": 0.05, "hashrate_drop": 0.05},
    )
    topics = Topics(prefix=service_env["WINDHASH_TOPIC_PREFIX"])
    with FleetSimServer(spec) as sim:
        await register_fleet(pg_dsn, sim, topics)
        settings = {
            "WINDHASH_FLEET_POLL_INTERVAL_S": "4",
            "WINDHASH_FLEET_OFFLINE_AFTER_FAILURES": "2",
            "WINDHASH_FLEET_RPC_TIMEOUT_S": "2",
        }
        processes = collectors(service_env, tmp_path, settings)
        try:
            processes.start("collector", "fleet", "collector")
            async with TopicReader(stack.kafka_bootstrap, topics.miner_telemetry) as telemetry:
                await telemetry.read_until(lambda seen: len({key for key, _ in seen}) == len(sim.miners), 120)
                events = [MinerTelemetryEvent.model_validate_json(value) for _, value in telemetry.messages]
            by_serial = {miner.serial: miner for miner in sim.miners}
            for event in events:
                assert event.kafka_key == event.miner_serial.encode() and event.synthetic
                served = sim.served(event.miner_serial)
                assert sum(_same_reading(event, reading) for reading in served) == 1, event
                faults = by_serial[event.miner_serial].faults
                if faults.overheating:
                    assert event.temperature_c > 90
                if faults.hashrate_drop:
                    assert event.hashrate_ths < by_serial[event.miner_serial].model.hashrate_ths * 0.72

            victims = [miner.serial for miner in sim.miners[:3]]
            for serial in victims:
                sim.set_faults(serial, MinerFaults(offline=True))

            async def victims_are(status: str) -> bool:
                rows = await _fetch(
                    pg_dsn, "SELECT status FROM hosting_miners WHERE serial_number = ANY($1::text[])", victims
                )
                return all(row["status"] == status for row in rows)

            await wait_for(lambda: victims_are("offline"), 60, processes)
            for serial in victims:
                sim.set_faults(serial, MinerFaults())
            await wait_for(lambda: victims_are("active"), 60, processes)
        finally:
            processes.stop_all()

    others = await _fetch(pg_dsn, "SELECT count(*) FROM hosting_miners WHERE status <> 'active'")
    assert others[0][0] == 0
    log = await _fetch(
        pg_dsn,
        "SELECT serial_number, operation, actor FROM miner_operation_log JOIN hosting_miners USING (miner_id)"
        " WHERE operation LIKE 'mark_%' ORDER BY operation_id",
    )
    assert sorted((row["serial_number"], row["operation"]) for row in log) == sorted(
        [(serial, "mark_offline") for serial in victims] + [(serial, "mark_online") for serial in victims]
    )
    assert {row["actor"] for row in log} == {"fleet-collector/shard-0"}

    # The collector's own relay published the outbox rows as the statuses changed.
    unpublished = await _fetch(pg_dsn, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
    assert unpublished[0][0] == 0
    async with TopicReader(stack.kafka_bootstrap, topics.miner_status) as status_topic:
        await status_topic.read_until(lambda seen: len(seen) == 6, 60)
    changes = [MinerStatusChangedEvent.model_validate_json(value) for _, value in status_topic.messages]
    for serial in victims:
        mine = [change.event_type for change in changes if change.miner_serial == serial]
        assert mine == ["miner.offline", "miner.online"]
