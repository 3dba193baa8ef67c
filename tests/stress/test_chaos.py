"""Chaos: a backfill during which the ingestor, the calculator and the aggregator are SIGKILLed at random
moments and restarted, and Kafka and PostgreSQL are each restarted once. Afterwards every table must equal, by
checksum, the tables of an undisturbed run on the same input.

Both runs use the real system, one OS process per service (windhash_cli.service_processes), on a dedicated
stack (own state dir and ports, shared jars) so restarting its servers disturbs no other test; each run has
its own database and topic prefix. The undisturbed run goes first, then the chaos run on a slowed-down
synthetic Elexon server, so the kills land while data is flowing. A seeded RNG (WINDHASH_CHAOS_SEED) picks the
order and the moments; the outcome must not depend on them. Services that die on their own (e.g. while a
server is restarting) are restarted as a supervisor would, and listed in the output.

Size: 5 days around the spring clock change by default; `pytest tests/stress/test_chaos.py --full` (or
WINDHASH_CHAOS_FULL=1) runs the year 2024.

What "equal" means: every column of every table, except those that record when or how often something
happened (updated_at and the like, fetched_at, attempts, outbox ids), Kafka topic prefixes, and Kafka offsets,
which a crash legitimately moves (a republished period is a new message); instead, the stored positions must
have reached the end of each topic. The outbox is compared as a set: delivery is at least once."""

import asyncio
import contextlib
import os
import random
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from windhash_cli.pipeline_completion import pipeline_progress
from windhash_cli.service_processes import WINDHASH, ServiceProcess
from windhash_common.db import migrate_database
from windhash_common.topics import Topics, ensure_topics
from windhash_elexon_sim.server import ElexonSimServer
from windhash_stack import LocalStack, Server
from windhash_testing.dedicated_stack import dedicated_stack
from windhash_testing.table_checksums import differing_rows, table_checksums


@dataclass(frozen=True)
class ChaosScale:
    first: date
    last: date
    kills_per_service: int
    gap_s: tuple[float, float]  # seconds between two blows, drawn uniformly
    sim_latency_s: float  # per Elexon request, so a small backfill lasts long enough to be hit
    deadline_s: float


FULL = os.environ.get("WINDHASH_CHAOS_FULL") == "1"
SEED = int(os.environ.get("WINDHASH_CHAOS_SEED", "20240331"))
SCALE = (
    ChaosScale(date(2024, 1, 1), date(2024, 12, 31), 8, (5.0, 20.0), 0.0, 3000.0)
    if FULL
    else ChaosScale(date(2024, 3, 29), date(2024, 4, 2), 4, (1.0, 3.5), 0.2, 400.0)
)
pytestmark = [pytest.mark.integration, pytest.mark.timeout(4 * 3600 if FULL else 900)]

PARTITIONS = 3
CALCULATOR_GROUP, AGGREGATOR_GROUP = "windhash-calculator", "windhash-aggregator"
CRASH_POINTS = ("mid_batch", "after_db_commit", "during_relay")
RESTART_BACKOFF_S = 1.0


@pytest.fixture(scope="module")
async def chaos_stack() -> AsyncIterator[LocalStack]:
    """A stack of our own: restarting its Kafka and PostgreSQL cannot disturb the session's."""
    async with dedicated_stack("chaos") as stack:
        yield stack


@pytest.fixture
def reference_sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer() as server:
        yield server


@pytest.fixture
def chaos_sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer(latency_s=SCALE.sim_latency_s) as server:
        yield server


@dataclass
class Pipeline:
    """One run of the whole system: its own database and topics, its services as supervised processes."""

    name: str
    env: dict[str, str]
    log_dir: Path
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    started_at: dict[str, float] = field(default_factory=dict)
    ingest_done: bool = False
    events: list[str] = field(default_factory=list)
    kills: list[str] = field(default_factory=list)

    @property
    def dsn(self) -> str:
        return self.env["WINDHASH_DATABASE_URL"]

    @property
    def topics(self) -> Topics:
        return Topics(self.env["WINDHASH_TOPIC_PREFIX"])

    def start(self, name: str, force: bool = False, crash_at: str | None = None) -> None:
        args = (
            ["ingest", "range", SCALE.first.isoformat(), SCALE.last.isoformat()]
            if name == "ingest"
            else [name]
        )
        env = dict(self.env)
        if crash_at:
            env["WINDHASH_CALCULATOR_CRASH_AT"] = crash_at
        service = ServiceProcess(
            name, [*args, *(["--force"] if force else [])], env, self.log_dir / f"{name}.log"
        )
        service.start()
        self.services[name] = service
        self.started_at[name] = asyncio.get_running_loop().time()

    def supervise(self) -> None:
        """Restart what exited (after a short backoff), as systemd or Kubernetes would; note why it exited."""
        now = asyncio.get_running_loop().time()
        for name, service in list(self.services.items()):
            if service.running or service.process is None:
                continue
            code = service.process.returncode
            if name == "ingest" and code == 0:
                self.ingest_done = True
                continue
            if now - self.started_at[name] < RESTART_BACKOFF_S:
                continue
            cause = "its crash point (SIGKILL)" if code == -9 else f"exit code {code}: {last_error(service)}"
            self.events.append(f"{name} exited on its own ({cause}); restarted")
            self.start(name)

    async def kill_and_restart(self, name: str, rng: random.Random) -> None:
        if name == "ingest" and self.ingest_done:
            # The backfill has finished: a forced re-run (every period republished) is what gets killed.
            self.ingest_done = False
            self.start("ingest", force=True)
            self.events.append("ingest --force started (the backfill had finished)")
            await self.idle(rng.uniform(0.5, 2.0))
        service = self.services[name]
        if not service.running:
            self.supervise()
            service = self.services[name]
        if service.running:
            service.kill()
            self.kills.append(name)
        crash_at = None
        if name == "calculator" and rng.random() < 0.5:
            # Half the calculator's restarts also kill it at the worst moment it knows, from the inside.
            crash_at = f"{rng.choice(CRASH_POINTS)}:{rng.randint(1, 3)}"
        self.start(name, crash_at=crash_at)
        self.events.append(
            f"SIGKILL {name}" + (f", restarted with crash point {crash_at}" if crash_at else "")
        )

    async def idle(self, seconds: float) -> None:
        deadline = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < deadline:
            self.supervise()
            await asyncio.sleep(0.2)

    def stop_all(self) -> None:
        for service in self.services.values():
            service.stop()


def last_error(service: ServiceProcess) -> str:
    lines = [line for line in service.log_tail(60).splitlines() if "Error" in line or "error" in line]
    return lines[-1].strip()[:200] if lines else "(no error in its log)"


async def prepare(stack: LocalStack, name: str, sim: ElexonSimServer, log_dir: Path) -> Pipeline:
    endpoints = stack.endpoints
    database = f"windhash_{name}"
    admin = await asyncpg.connect(endpoints.postgres_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    dsn = urlsplit(endpoints.postgres_dsn)._replace(path=f"/{database}").geturl()
    await migrate_database(dsn)
    await ensure_topics(endpoints.kafka_bootstrap, Topics(name), PARTITIONS)
    env = {
        "WINDHASH_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
        "WINDHASH_DATABASE_URL": dsn,
        "WINDHASH_DYNAMODB_ENDPOINT": endpoints.dynamodb_endpoint,
        "WINDHASH_TOPIC_PREFIX": name,
        "WINDHASH_TOPIC_PARTITIONS": str(PARTITIONS),
        "WINDHASH_DIFFICULTY_TABLE": "chaos_difficulty",
        "WINDHASH_ELEXON_BASE_URL": sim.base_url,
        "WINDHASH_ELEXON_CONCURRENCY": "2",
        "WINDHASH_ELEXON_BACKOFF_MAX_SECONDS": "2",
        "WINDHASH_METRICS_PORT": "0",
        "WINDHASH_CALCULATOR_BATCH_MESSAGES": "25",
    }
    run_env = {**os.environ, **env}
    for step in (["difficulty", "load"], ["prices", "load"]):
        done = await asyncio.to_thread(
            subprocess.run, [*WINDHASH, *step], env=run_env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return Pipeline(name, env, log_dir / name)


async def caught_up(pipeline: Pipeline) -> str | None:
    """None once everything is through every stage; otherwise what is still missing."""
    if not pipeline.ingest_done:
        return "the backfill has not finished"
    connection = await asyncpg.connect(pipeline.dsn)
    try:
        progress = await pipeline_progress(connection, SCALE.first, SCALE.last)
        if not progress.complete or progress.periods_calculated != progress.periods_expected:
            return f"pipeline: {progress}"
        if stale := await connection.fetchval("SELECT count(*) FROM summary_stale_days"):
            return f"{stale} stale summary days"
        rows = await connection.fetch(
            "SELECT consumer_group, topic, partition, next_offset FROM consumer_positions"
        )
    finally:
        await connection.close()
    stored = {(row[0], row[1], row[2]): row[3] for row in rows}
    topics = pipeline.topics
    ends = await end_offsets(
        pipeline.env["WINDHASH_KAFKA_BOOTSTRAP"], [topics.settlement_periods, topics.period_calculated]
    )
    for group, topic in (
        (CALCULATOR_GROUP, topics.settlement_periods),
        (AGGREGATOR_GROUP, topics.period_calculated),
    ):
        for tp, end in ends.items():
            if tp.topic == topic and stored.get((group, topic, tp.partition), 0) < end:
                return f"{group} at {stored.get((group, topic, tp.partition), 0)} of {end} on {tp}"
    return None


async def end_offsets(bootstrap: str, topics: list[str]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends: dict[TopicPartition, int] = await consumer.end_offsets(
            [TopicPartition(topic, partition) for topic in topics for partition in range(PARTITIONS)]
        )
        return ends
    finally:
        await consumer.stop()


async def run_until_caught_up(pipeline: Pipeline, deadline_s: float) -> None:
    deadline = asyncio.get_running_loop().time() + deadline_s
    missing: str | None = "not asked yet"
    while True:
        await pipeline.idle(1.0)
        # A server still coming back: ask again.
        with contextlib.suppress(OSError, asyncpg.PostgresError, KafkaError):
            missing = await caught_up(pipeline)
            if missing is None:
                return
        assert asyncio.get_running_loop().time() < deadline, (
            f"{pipeline.name} stuck: {missing}\n"
            + "\n".join(f"--- {name}\n{service.log_tail(15)}" for name, service in pipeline.services.items())
        )


async def unleash_chaos(pipeline: Pipeline, stack: LocalStack, rng: random.Random) -> None:
    blows = ["ingest", "calculator", "aggregator"] * SCALE.kills_per_service
    rng.shuffle(blows)
    blows.insert(rng.randint(2, len(blows) // 2), "kafka")
    blows.insert(rng.randint(len(blows) // 2 + 1, len(blows) - 1), "postgres")
    for blow in blows:
        await pipeline.idle(rng.uniform(*SCALE.gap_s))
        if blow in ("kafka", "postgres"):
            server = Server.KAFKA if blow == "kafka" else Server.POSTGRES
            began = asyncio.get_running_loop().time()
            await stack.restart(server)
            took = asyncio.get_running_loop().time() - began
            pipeline.events.append(f"restarted {blow} ({took:.1f} s)")
        else:
            await pipeline.kill_and_restart(blow, rng)


async def start_backfill(pipeline: Pipeline) -> None:
    for name in ("calculator", "aggregator", "ingest"):
        pipeline.start(name)


async def test_chaos_leaves_every_table_as_an_undisturbed_run_does(
    chaos_stack: LocalStack, reference_sim: ElexonSimServer, chaos_sim: ElexonSimServer, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    reference = await prepare(chaos_stack, "reference", reference_sim, tmp_path)
    chaos = await prepare(chaos_stack, "chaos", chaos_sim, tmp_path)
    try:
        await start_backfill(reference)
        await run_until_caught_up(reference, SCALE.deadline_s)
    finally:
        reference.stop_all()
    try:
        await start_backfill(chaos)
        await unleash_chaos(chaos, chaos_stack, rng)
        await run_until_caught_up(chaos, SCALE.deadline_s)
    finally:
        chaos.stop_all()
    print(f"\nchaos (seed {SEED}), {len(chaos.kills)} SIGKILLs by the test:\n  " + "\n  ".join(chaos.events))

    assert len(chaos.kills) >= 10 and set(chaos.kills) == {"ingest", "calculator", "aggregator"}, chaos.kills
    assert not reference.events, f"the undisturbed run was disturbed: {reference.events}"
    expected = await table_checksums(reference.dsn, reference.topics.prefix)
    actual = await table_checksums(chaos.dsn, chaos.topics.prefix)
    assert int(expected["curtailment_records"].split()[0]) > 0
    assert int(expected["bitcoin_calculations"].split()[0]) > 0
    print("\n".join(f"  {table:24} {checksum}" for table, checksum in sorted(actual.items())))
    differing = sorted(table for table in expected if actual.get(table) != expected[table])
    runs = [(reference.dsn, reference.topics.prefix), (chaos.dsn, chaos.topics.prefix)]
    details = [await differing_rows(runs, table) for table in differing]
    assert actual == expected, "\n".join(details)
