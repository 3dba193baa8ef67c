"""The fleet end to end, each service its own OS process: the simulator with a few hundred miners, the
collector, Kafka and the telemetry writer. Every row in miner_telemetry is exactly one reading the simulator
served, and every reading it served is a row; the rollups equal a recompute and add up to the rows; miners
that stop answering go offline (and show no readings since), and come back."""

import asyncio
import itertools
from pathlib import Path

import asyncpg
import pytest
from windhash_common.topics import Topics
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

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
MINERS = 240
INTERVAL_S = 3.0


async def _count(connection: asyncpg.Connection, query: str, *args: object) -> int:
    return int(await connection.fetchval(query, *args))


async def test_rows_rollups_and_offline_miners_are_what_the_simulator_served(
    service_env: dict[str, str], pg_dsn: str, stack: StackEndpoints, tmp_path: Path
) -> None:
    topics = Topics(prefix=service_env["WINDHASH_TOPIC_PREFIX"])
    spec = FleetSpec(
        miners=MINERS,
        base_address=loopback_block(),
        seed=19,
        record_depth=1_000,  # every reading of the run stays on record for the comparison
        fault_fractions={"overheating": 0.05, "hashrate_drop": 0.05},
    )
    connection = await asyncpg.connect(pg_dsn)
    with FleetSimServer(spec) as sim:
        await register_fleet(pg_dsn, sim, topics)
        processes = collectors(
            service_env,
            tmp_path,
            {
                "WINDHASH_FLEET_POLL_INTERVAL_S": str(INTERVAL_S),
                "WINDHASH_FLEET_RPC_TIMEOUT_S": "2",
                "WINDHASH_FLEET_OFFLINE_AFTER_FAILURES": "2",
                "WINDHASH_FLEET_WRITER_BATCH_WAIT_MS": "100",
            },
        )
        victims = [miner.serial for miner in sim.miners[:4]]
        try:
            processes.start("writer", "fleet", "writer")
            processes.start("collector", "fleet", "collector")

            async def every_miner_has(rows: int) -> bool:
                fewest = await connection.fetchval(
                    "SELECT min(n) FROM (SELECT count(t.miner_id) AS n FROM hosting_miners m"
                    " LEFT JOIN miner_telemetry t USING (miner_id) GROUP BY m.miner_id) AS counts"
                )
                return int(fewest or 0) >= rows

            await wait_for(lambda: every_miner_has(3), 180, processes)
            for serial in victims:
                sim.set_faults(serial, MinerFaults(offline=True))

            async def victims_are(status: str) -> bool:
                return await _count(
                    connection,
                    "SELECT count(*) FROM hosting_miners"
                    " WHERE serial_number = ANY($1::text[]) AND status = $2",
                    victims,
                    status,
                ) == len(victims)

            await wait_for(lambda: victims_are("offline"), 90, processes)
            await asyncio.sleep(2 * INTERVAL_S)  # offline for a while: no readings, rows stop growing
            for serial in victims:
                sim.set_faults(serial, MinerFaults())
            await wait_for(lambda: victims_are("active"), 90, processes)
            processes.services["collector"].stop()
            await wait_for(
                lambda: writer_caught_up(pg_dsn, stack.kafka_bootstrap, topics.miner_telemetry),
                120,
                processes,
            )
        finally:
            processes.stop_all()

        served = {miner.serial: sim.served(miner.serial) for miner in sim.miners}
        ids = {
            row["serial_number"]: row["miner_id"]
            for row in await connection.fetch("SELECT * FROM hosting_miners")
        }
        problems = []
        for serial, readings in served.items():
            rows = await connection.fetch(
                "SELECT * FROM miner_telemetry WHERE miner_id = $1 ORDER BY recorded_at", ids[serial]
            )
            assert len(rows) == len(readings), f"{serial}: {len(rows)} rows, {len(readings)} readings served"
            problems += unmatched_rows(rows, readings)
        assert problems == []

    total = await _count(connection, "SELECT count(*) FROM miner_telemetry")
    assert total == sum(len(readings) for readings in served.values())
    assert await rollup_drift(connection) == []
    assert await _count(connection, "SELECT sum(readings) FROM miner_telemetry_hourly") == total
    assert await _count(connection, "SELECT sum(readings) FROM site_telemetry_daily") == total
    assert await _count(connection, "SELECT count(*) FROM miner_telemetry_latest") == MINERS
    log = await connection.fetch(
        "SELECT serial_number, operation FROM miner_operation_log JOIN hosting_miners USING (miner_id)"
        " WHERE operation LIKE 'mark_%' ORDER BY operation_id"
    )
    for serial in victims:
        assert [row["operation"] for row in log if row["serial_number"] == serial] == [
            "mark_offline",
            "mark_online",
        ]
    assert await _count(connection, "SELECT count(*) FROM hosting_miners WHERE status <> 'active'") == 0
    dead = await _count(connection, "SELECT count(*) FROM outbox WHERE topic = $1", topics.dead_letter)
    assert dead == 0, "nothing the simulator served was refused"
    # The offline spell shows in the victims' readings: a gap of well over one interval.
    for serial in victims:
        times = [reading.at for reading in served[serial]]
        assert max(later - earlier for earlier, later in itertools.pairwise(times)) > 3 * INTERVAL_S
    await connection.close()
