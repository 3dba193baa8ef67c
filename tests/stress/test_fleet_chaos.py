"""Chaos in the fleet: the telemetry writer and the collector SIGKILLed at random moments (mid-batch,
mid-cycle) and restarted, while the simulator's miners are polled, some go offline and come back. Then:

- the writer's tables (miner_telemetry, every rollup, each miner's newest reading) equal, row for row, those
  an undisturbed writer makes from the same topic: nothing lost, nothing doubled;
- the collector's tables (the miners' statuses, the operation log, the status events in the outbox) equal an
  undisturbed run's on the same simulated fleet and fault script;
- every stored reading is exactly one the simulator served;
- two writers in one consumer group over the same topic, the second joining mid-stream and the first leaving
  mid-stream (two rebalances), make the same tables as one undisturbed writer (the writer scales out).

Live polling cannot be replayed (each reply is a fresh draw at a fresh time), so the writer is compared with
an undisturbed writer over the very messages the disturbed run produced, and the collector with an
undisturbed run of the same script. Each run has its own database and topic prefix on the session's stack
(no server is restarted here: tests/stress/test_chaos.py does that). A seeded RNG (WINDHASH_CHAOS_SEED)
picks the moments.
"""

import asyncio
import os
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
from windhash_cli.service_processes import ServiceProcesses
from windhash_common.db import migrate_database
from windhash_common.topics import Topics, ensure_topics
from windhash_fleet.rollup_verify import rollup_drift
from windhash_fleet_sim.fleet import FleetSpec
from windhash_fleet_sim.server import FleetSimServer
from windhash_fleet_sim.sim_miner import MinerFaults
from windhash_stack import StackEndpoints
from windhash_testing.fleet_runs import (
    collectors,
    loopback_block,
    register_fleet,
    unmatched_rows,
    wait_for,
    writer_caught_up,
)
from windhash_testing.pipeline_runs import RunEnvironment
from windhash_testing.table_checksums import rows_of

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]
SEED = int(os.environ.get("WINDHASH_CHAOS_SEED", "20240331"))
MINERS = 150
INTERVAL_S = 2.0
VICTIMS = 5
PARTITIONS = 3
FLEET_SETTINGS = {
    "WINDHASH_FLEET_POLL_INTERVAL_S": str(INTERVAL_S),
    "WINDHASH_FLEET_RPC_TIMEOUT_S": "5",
    "WINDHASH_FLEET_OFFLINE_AFTER_FAILURES": "2",
    "WINDHASH_FLEET_LEASE_TTL_S": "3",
    "WINDHASH_FLEET_WRITER_BATCH_MESSAGES": "200",
    "WINDHASH_FLEET_WRITER_BATCH_WAIT_MS": "300",
}


@dataclass
class Run(RunEnvironment):
    name: str
    env: dict[str, str]
    log_dir: Path
    kills: list[str] = field(default_factory=list)


@pytest.fixture
async def runs(stack: StackEndpoints, tmp_path: Path) -> AsyncIterator[dict[str, Run]]:
    """Four databases and topic prefixes: the undisturbed run, the chaos run, the chaos topic's replay by one
    writer and by two writers that join and leave."""
    made: dict[str, Run] = {}
    try:
        for name in ("reference", "chaos", "replay", "scaled"):
            database = f"fleet_{name}_{uuid.uuid4().hex[:10]}"
            await _admin(stack, f'CREATE DATABASE "{database}"')
            dsn = urlsplit(stack.postgres_dsn)._replace(path=f"/{database}").geturl()
            await migrate_database(dsn)
            prefix = f"fleetchaos{uuid.uuid4().hex[:8]}"
            await ensure_topics(stack.kafka_bootstrap, Topics(prefix), PARTITIONS)
            env = {
                "WINDHASH_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
                "WINDHASH_DATABASE_URL": dsn,
                "WINDHASH_TOPIC_PREFIX": prefix,
                "WINDHASH_TOPIC_PARTITIONS": str(PARTITIONS),
                "WINDHASH_FLEET_WRITER_GROUP": f"fleet-writer-{name}",
                **FLEET_SETTINGS,
            }
            made[name] = Run(name, env, tmp_path / name)
        yield made
    finally:
        for run in made.values():
            await _admin(stack, f'DROP DATABASE IF EXISTS "{urlsplit(run.dsn).path[1:]}" WITH (FORCE)')


async def _admin(stack: StackEndpoints, statement: str) -> None:
    # A connection per statement: one held through a run of several minutes is one more thing to lose.
    admin = await asyncpg.connect(stack.postgres_dsn)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


async def _scalar(dsn: str, query: str, *args: object) -> Any:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval(query, *args)
    finally:
        await connection.close()


# How long a restarted service lives at least before it is killed again. A writer killed without leaving its
# group holds the group's next rebalance until its session times out (10 s), and a collector's lease outlives
# it by its TTL (3 s): killed sooner, a new one would rarely get to work at all, and whether the run ever
# finishes would depend on how the kills happen to line up with those timeouts.
MIN_LIFE_S = {"writer": 15.0, "collector": 6.0}
KILLS_EACH = 3  # the chaos goes on, past the script's last step if need be, until each is killed this often


async def _chaos(processes: ServiceProcesses, run: Run, rng: random.Random, stop: asyncio.Event) -> None:
    """Until `stop`: every 0.5 to 3 s, SIGKILL the writer or the collector (one that has lived its
    `MIN_LIFE_S`) and start it again at once."""
    loop = asyncio.get_running_loop()
    started = dict.fromkeys(MIN_LIFE_S, loop.time())
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=rng.uniform(0.5, 3.0))
            return
        except TimeoutError:
            pass
        due = [name for name, life in MIN_LIFE_S.items() if loop.time() - started[name] >= life]
        if not due:
            continue
        name = rng.choice(due)
        service = processes.services[name]
        service.kill()  # waits for the process to end: then a new one, as a supervisor would
        service.start()
        started[name] = loop.time()
        run.kills.append(name)


async def run_script(run: Run, sim: FleetSimServer, rng: random.Random | None) -> dict[str, list[float]]:
    """Poll, take the victims offline until marked so, bring them back until active, stop polling, let the
    writer catch up. With `rng`, the writer and the collector are killed throughout."""
    await register_fleet(run.dsn, sim, run.topics)
    processes = collectors(run.env, run.log_dir, {})
    stop_chaos = asyncio.Event()
    victims = [miner.serial for miner in sim.miners[:VICTIMS]]
    count_status = "SELECT count(*) FROM hosting_miners WHERE serial_number = ANY($1::text[]) AND status = $2"

    async def victims_are(status: str) -> bool:
        return int(await _scalar(run.dsn, count_status, victims, status)) == VICTIMS

    async def every_miner_has(rows: int) -> bool:
        fewest = await _scalar(
            run.dsn,
            "SELECT min(n) FROM (SELECT count(t.miner_id) AS n FROM hosting_miners m"
            " LEFT JOIN miner_telemetry t USING (miner_id) GROUP BY m.miner_id) AS counts",
        )
        return int(fewest or 0) >= rows

    try:
        processes.start("writer", "fleet", "writer")
        processes.start("collector", "fleet", "collector")
        chaos = asyncio.create_task(_chaos(processes, run, rng, stop_chaos)) if rng else None
        await wait_for(lambda: every_miner_has(3), 300, processes)
        for serial in victims:
            sim.set_faults(serial, MinerFaults(offline=True))
        await wait_for(lambda: victims_are("offline"), 300, processes)
        for serial in victims:
            sim.set_faults(serial, MinerFaults())
        await wait_for(lambda: victims_are("active"), 300, processes)
        await asyncio.sleep(2 * INTERVAL_S)

        async def killed_enough() -> bool:
            return all(run.kills.count(name) >= KILLS_EACH for name in MIN_LIFE_S)

        if chaos:
            await wait_for(killed_enough, 300, processes)
        stop_chaos.set()
        if chaos:
            await chaos
        processes.services["collector"].stop()
        bootstrap, topic = run.env["WINDHASH_KAFKA_BOOTSTRAP"], run.topics.miner_telemetry
        group = run.env["WINDHASH_FLEET_WRITER_GROUP"]
        await wait_for(lambda: writer_caught_up(run.dsn, bootstrap, topic, group), 300, processes)
    finally:
        stop_chaos.set()
        processes.stop_all()
    return {miner.serial: [reading.at for reading in sim.served(miner.serial)] for miner in sim.miners}


async def replay(run: Run, sim: FleetSimServer, topic_prefix: str) -> None:
    """An undisturbed writer over another run's telemetry topic."""
    await register_fleet(run.dsn, sim, run.topics)
    env = {**run.env, "WINDHASH_TOPIC_PREFIX": topic_prefix}
    processes = collectors(env, run.log_dir, {})
    try:
        processes.start("writer", "fleet", "writer")
        topic = Topics(topic_prefix).miner_telemetry
        group = env["WINDHASH_FLEET_WRITER_GROUP"]
        await wait_for(
            lambda: writer_caught_up(run.dsn, env["WINDHASH_KAFKA_BOOTSTRAP"], topic, group), 300, processes
        )
    finally:
        processes.stop_all()


async def _positions_stored(dsn: str, group: str) -> int:
    stored = await _scalar(
        dsn, "SELECT coalesce(sum(next_offset), 0) FROM consumer_positions WHERE consumer_group = $1", group
    )
    return int(stored)


async def replay_scaled(run: Run, sim: FleetSimServer, topic_prefix: str) -> None:
    """Two writers in one group over another run's telemetry topic: the second starts once the first has
    stored positions (a rebalance mid-stream), the first stops once the second has moved them on (another)."""
    await register_fleet(run.dsn, sim, run.topics)
    env = {**run.env, "WINDHASH_TOPIC_PREFIX": topic_prefix, "WINDHASH_FLEET_WRITER_BATCH_MESSAGES": "50"}
    group = env["WINDHASH_FLEET_WRITER_GROUP"]
    processes = collectors(env, run.log_dir, {})
    try:
        first = processes.start("writer-1", "fleet", "writer")
        await wait_for(lambda: _above(run.dsn, group, 0), 300, processes)
        processes.start("writer-2", "fleet", "writer")
        joined_at = await _positions_stored(run.dsn, group)
        await wait_for(lambda: _above(run.dsn, group, joined_at), 300, processes)
        first.stop()
        topic = Topics(topic_prefix).miner_telemetry
        await wait_for(
            lambda: writer_caught_up(run.dsn, env["WINDHASH_KAFKA_BOOTSTRAP"], topic, group), 300, processes
        )
    finally:
        processes.stop_all()


async def _above(dsn: str, group: str, stored: int) -> bool:
    return await _positions_stored(dsn, group) > stored


# Row by row, keyed by serial and site name (ids are each database's own).
WRITER_TABLES = {
    "miner_telemetry": "SELECT m.serial_number, t.recorded_at, t.hashrate_ths, t.temperature_c, t.power_w,"
    " t.fan_rpm, t.sleeping FROM miner_telemetry t JOIN hosting_miners m USING (miner_id)",
    "miner_telemetry_hourly": "SELECT m.serial_number, t.hour, t.readings, t.hashing_readings,"
    " t.hashrate_mhs_sum, t.power_mw_sum, t.hashing_power_mw_sum, t.temperature_c_max"
    " FROM miner_telemetry_hourly t JOIN hosting_miners m USING (miner_id)",
    "site_telemetry_hourly": "SELECT s.name, t.hour, t.readings, t.hashing_readings, t.hashrate_mhs_sum,"
    " t.power_mw_sum, t.hashing_power_mw_sum, t.temperature_c_max FROM site_telemetry_hourly t"
    " JOIN hosting_sites s USING (site_id)",
    "site_telemetry_daily": "SELECT s.name, t.day, t.readings, t.hashing_readings, t.hashrate_mhs_sum,"
    " t.power_mw_sum, t.hashing_power_mw_sum, t.temperature_c_max FROM site_telemetry_daily t"
    " JOIN hosting_sites s USING (site_id)",
    "miner_telemetry_latest": "SELECT m.serial_number, t.recorded_at, t.hashrate_ths, t.power_w"
    " FROM miner_telemetry_latest t JOIN hosting_miners m USING (miner_id)",
}
COLLECTOR_TABLES = {
    "hosting_miners": "SELECT serial_number, status, telemetry_enabled FROM hosting_miners",
    "miner_operation_log": "SELECT m.serial_number, o.operation, o.actor FROM miner_operation_log o"
    " JOIN hosting_miners m USING (miner_id) WHERE o.operation LIKE 'mark_%'",
    "status events": "SELECT payload->>'miner_serial', payload->>'event_type', payload->>'status_before',"
    " payload->>'status_after' FROM outbox WHERE topic LIKE '%.miner-status.v1'",
    "dead letters": "SELECT payload->>'reason' FROM outbox WHERE topic LIKE '%.dead-letter.v1'",
}


async def test_kills_of_the_writer_and_the_collector_leave_every_table_as_undisturbed_runs_do(
    runs: dict[str, Run],
) -> None:
    rng = random.Random(SEED)
    spec = FleetSpec(miners=MINERS, seed=SEED % 100_000, record_depth=2_000)
    with FleetSimServer(FleetSpec(**{**spec.__dict__, "base_address": loopback_block()})) as sim:
        await run_script(runs["reference"], sim, None)
    with FleetSimServer(FleetSpec(**{**spec.__dict__, "base_address": loopback_block()})) as sim:
        served_times = await run_script(runs["chaos"], sim, rng)
        served = {miner.serial: sim.served(miner.serial) for miner in sim.miners}
        await replay(runs["replay"], sim, runs["chaos"].topics.prefix)
        await replay_scaled(runs["scaled"], sim, runs["chaos"].topics.prefix)
    chaos = runs["chaos"]
    print(f"\nfleet chaos (seed {SEED}): {len(chaos.kills)} SIGKILLs: {', '.join(chaos.kills)}")
    assert all(chaos.kills.count(name) >= KILLS_EACH for name in MIN_LIFE_S), chaos.kills

    disturbed = await rows_of(chaos.dsn, WRITER_TABLES)
    undisturbed = await rows_of(runs["replay"].dsn, WRITER_TABLES)
    assert len(disturbed["miner_telemetry"]) > MINERS * 3
    scaled = await rows_of(runs["scaled"].dsn, WRITER_TABLES)
    for table in WRITER_TABLES:
        assert disturbed[table] == undisturbed[table], f"{table} differs from an undisturbed writer's"
        assert scaled[table] == undisturbed[table], f"{table}: two writers that rebalanced differ from one"
    assert (await rows_of(chaos.dsn, COLLECTOR_TABLES)) == (
        await rows_of(runs["reference"].dsn, COLLECTOR_TABLES)
    )

    connection = await asyncpg.connect(chaos.dsn)
    try:
        assert await rollup_drift(connection) == []
        problems = []
        for serial, readings in served.items():
            rows = await connection.fetch(
                "SELECT t.* FROM miner_telemetry t JOIN hosting_miners m USING (miner_id)"
                " WHERE m.serial_number = $1",
                serial,
            )
            problems += unmatched_rows(rows, readings)
            assert len(rows) <= len(served_times[serial])
        assert problems == []
    finally:
        await connection.close()
