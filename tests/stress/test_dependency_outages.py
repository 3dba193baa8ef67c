"""A dependency outage of any length never ends a worker (issue #15, item 7).

The calculator and the aggregator run as their own processes on a stack of this test's own; PostgreSQL is
stopped for longer than the retry budget the workers used to have (6 attempts from 0.5 s doubling: ~15 s,
after which they exited "failed for good"), with settlement-period events arriving meanwhile; then Kafka is
stopped likewise, with events in flight. Throughout, both processes stay up and report not-ready on their
metrics port (`/ready` 503 naming the dependency, `windhash_ready` 0) while `/health` stays 200; they resume
by themselves when the server returns, and every table they write ends equal, by checksum, to an undisturbed
run on the same events.

The events are the undisturbed run's own, copied byte for byte from its topic, so both runs compute from the
same snapshots; `ingestion_progress` (written by the ingestor, which is not under test) is left out.
"""

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from windhash_cli.service_processes import WINDHASH, ServiceProcesses
from windhash_common.db import migrate_database
from windhash_common.topics import Topics, ensure_topics
from windhash_elexon_sim.server import ElexonSimServer
from windhash_reconciler.topic_reader import read_topic
from windhash_stack import LocalStack, Server
from windhash_stack.ports import free_port
from windhash_testing.dedicated_stack import dedicated_stack
from windhash_testing.table_checksums import differing_rows, table_checksums

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

FIRST, LAST = date(2024, 3, 30), date(2024, 3, 31)  # 48 + 46 periods (the spring clock change)
PARTITIONS = 3
# Longer than the old budget of ~15 s: the workers used to exit after it.
OUTAGE_SECONDS = 25.0
WORKERS = ("calculator", "aggregator")
DEADLINE_SECONDS = 240.0
# The ingestor's table: the outage run is fed the undisturbed run's events, it never ingests.
NOT_WRITTEN_BY_THE_WORKERS = {"ingestion_progress"}


@pytest.fixture(scope="module")
async def outage_stack() -> AsyncIterator[LocalStack]:
    async with dedicated_stack("outages") as stack:
        yield stack


@pytest.fixture
def sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer() as server:
        yield server


async def prepare(stack: LocalStack, name: str, sim: ElexonSimServer) -> dict[str, str]:
    """A database and topics of the run's own, with the packaged BM units, difficulty and prices loaded."""
    endpoints = stack.endpoints
    admin = await asyncpg.connect(endpoints.postgres_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "windhash_{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "windhash_{name}"')
    finally:
        await admin.close()
    dsn = urlsplit(endpoints.postgres_dsn)._replace(path=f"/windhash_{name}").geturl()
    await migrate_database(dsn)
    await ensure_topics(endpoints.kafka_bootstrap, Topics(name), PARTITIONS)
    env = {
        "WINDHASH_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
        "WINDHASH_DATABASE_URL": dsn,
        "WINDHASH_DYNAMODB_ENDPOINT": endpoints.dynamodb_endpoint,
        "WINDHASH_TOPIC_PREFIX": name,
        "WINDHASH_TOPIC_PARTITIONS": str(PARTITIONS),
        "WINDHASH_DIFFICULTY_TABLE": f"{name}_difficulty",
        "WINDHASH_ELEXON_BASE_URL": sim.base_url,
        "WINDHASH_CALCULATOR_BATCH_MESSAGES": "20",
    }
    # The reference data the ingestor would seed (the BM unit registry: each record's lead party) and load.
    for step in (["bmunits", "seed"], ["difficulty", "load"], ["prices", "load"]):
        done = await asyncio.to_thread(
            subprocess.run, [*WINDHASH, *step], env={**os.environ, **env}, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return env


async def checksums(env: dict[str, str]) -> dict[str, str]:
    sums = await table_checksums(env["WINDHASH_DATABASE_URL"], env["WINDHASH_TOPIC_PREFIX"])
    return {table: value for table, value in sums.items() if table not in NOT_WRITTEN_BY_THE_WORKERS}


async def until(condition: object, what: str, processes: ServiceProcesses, seconds: float) -> None:
    """Wait for `condition()` (an async callable), failing at once if a worker exits meanwhile."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        assert_workers_up(processes)
        try:
            if await condition():  # type: ignore[operator]
                return
        except (OSError, asyncpg.PostgresError, httpx.HTTPError):
            pass  # a server (or the worker's probe server) still coming up
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.5)


def assert_workers_up(processes: ServiceProcesses) -> None:
    for name in WORKERS:
        service = processes.services[name]
        assert service.running, f"{name} exited:\n{service.log_tail(30)}"


async def probe(port: int, path: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5.0) as client:
        return await client.get(f"http://127.0.0.1:{port}{path}")


async def all_report(ports: dict[str, int], ready: bool, dependency: str | None = None) -> bool:
    """Both workers answer /ready as `ready` (naming `dependency` down when not), export the same in
    `windhash_ready`, and are alive (/health 200) throughout: an orchestrator must not restart them."""
    for name, port in ports.items():
        answer = await probe(port, "/ready")
        if (answer.status_code == 200) != ready:
            return False
        if dependency is not None and answer.json()["dependencies"][dependency]["up"] != ready:
            return False
        if (await probe(port, "/health")).status_code != 200:
            return False
        gauge = f'windhash_ready{{service="{name}"}} {1.0 if ready else 0.0}'
        if gauge not in (await probe(port, "/metrics")).text.splitlines():
            return False
    return True


async def ride_out(
    stack: LocalStack, server: Server, ports: dict[str, int], processes: ServiceProcesses, dependency: str
) -> None:
    """`server` is already stopped: both workers report it, stay up past the old budget, then recover."""
    began = asyncio.get_running_loop().time()
    await until(lambda: all_report(ports, False, dependency), f"not-ready for {dependency}", processes, 60)
    while asyncio.get_running_loop().time() - began < OUTAGE_SECONDS:
        assert_workers_up(processes)
        assert await all_report(ports, False, dependency)
        await asyncio.sleep(1.0)
    await stack.start([server])
    await until(lambda: all_report(ports, True), f"ready again after {dependency}", processes, 120)


async def read_events(env: dict[str, str]) -> list[ConsumerRecord]:
    records: list[ConsumerRecord] = []
    topic = Topics(env["WINDHASH_TOPIC_PREFIX"]).settlement_periods
    await read_topic(env["WINDHASH_KAFKA_BOOTSTRAP"], topic, records.append)
    return records


async def publish(env: dict[str, str], records: list[ConsumerRecord]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=env["WINDHASH_KAFKA_BOOTSTRAP"], acks="all")
    await producer.start()
    try:
        topic = Topics(env["WINDHASH_TOPIC_PREFIX"]).settlement_periods
        for record in records:
            await producer.send_and_wait(topic, record.value, key=record.key, partition=record.partition)
    finally:
        await producer.stop()


async def test_workers_ride_out_postgresql_and_kafka_outages_and_finish_the_work(
    outage_stack: LocalStack, sim: ElexonSimServer, tmp_path: Path
) -> None:
    reference = await prepare(outage_stack, "reference", sim)
    undisturbed = ServiceProcesses(env=reference, log_dir=tmp_path / "reference")
    try:
        for name in WORKERS:
            undisturbed.start(name, extra_env={"WINDHASH_METRICS_PORT": "0"})
        ingest = await asyncio.to_thread(
            subprocess.run,
            [*WINDHASH, "ingest", "range", FIRST.isoformat(), LAST.isoformat()],
            env={**os.environ, **reference},
            capture_output=True,
            text=True,
        )
        assert ingest.returncode == 0, ingest.stdout + ingest.stderr
        events = await read_events(reference)
        assert len(events) == 48 + 46
        settled: dict[str, str] = {}

        async def reference_settled() -> bool:
            nonlocal settled
            before, settled = settled, await checksums(reference)
            return before == settled and int(settled["bitcoin_daily"].split()[0]) > 0

        await until(reference_settled, "the undisturbed run", undisturbed, DEADLINE_SECONDS)
    finally:
        undisturbed.stop_all()
    expected = await checksums(reference)

    outage = await prepare(outage_stack, "outage", sim)
    ports = {name: free_port() for name in WORKERS}
    processes = ServiceProcesses(env=outage, log_dir=tmp_path / "outage")
    try:
        for name in WORKERS:
            processes.start(name, extra_env={"WINDHASH_METRICS_PORT": str(ports[name])})
        await until(lambda: all_report(ports, True), "both workers ready", processes, 120)

        # PostgreSQL goes away; half the events arrive while it is away.
        await outage_stack.stop([Server.POSTGRES])
        await publish(outage, events[: len(events) // 2])
        await ride_out(outage_stack, Server.POSTGRES, ports, processes, "postgresql")

        # Kafka goes away with the other half just published: the calculator, its relay and the aggregator
        # are all mid-work.
        await publish(outage, events[len(events) // 2 :])
        await outage_stack.stop([Server.KAFKA])
        await ride_out(outage_stack, Server.KAFKA, ports, processes, "kafka")

        async def equal() -> bool:
            return await checksums(outage) == expected

        await until(equal, "the tables of the undisturbed run", processes, DEADLINE_SECONDS)
        assert_workers_up(processes)  # never exited, never restarted
    finally:
        processes.stop_all()
    actual = await checksums(outage)
    differing = sorted(table for table in expected if actual.get(table) != expected[table])
    runs = [
        (reference["WINDHASH_DATABASE_URL"], reference["WINDHASH_TOPIC_PREFIX"]),
        (outage["WINDHASH_DATABASE_URL"], outage["WINDHASH_TOPIC_PREFIX"]),
    ]
    assert actual == expected, "\n".join([await differing_rows(runs, table) for table in differing])
