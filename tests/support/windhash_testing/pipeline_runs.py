"""Whole-system runs as separate processes, for the tests that disturb one and compare it with an undisturbed
one: the chaos test, the 3-broker cluster test and the many-instances test.

A `Pipeline` is one run: its own database and topic prefix, its services as supervised OS processes
(windhash_cli.service_processes), any number of instances of each. `prepare` makes the database and topics
and loads the packaged reference data; `run_until_caught_up` waits until every period of the range is
ingested, calculated and summarised and every consumer group's stored positions reached the topics' ends.
"""

import asyncio
import contextlib
import os
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from windhash_cli.pipeline_completion import pipeline_progress
from windhash_cli.service_processes import WINDHASH, ServiceProcess
from windhash_common.db import migrate_database
from windhash_common.topics import TopicLayout, Topics, ensure_topics
from windhash_stack import StackEndpoints

CALCULATOR_GROUP, AGGREGATOR_GROUP = "windhash-calculator", "windhash-aggregator"
RESTART_BACKOFF_S = 1.0


class RunEnvironment:
    """The database and topics of a test run whose services all read `env` (a dataclass field of the run)."""

    env: dict[str, str]

    @property
    def dsn(self) -> str:
        return self.env["WINDHASH_DATABASE_URL"]

    @property
    def topics(self) -> Topics:
        return Topics(self.env["WINDHASH_TOPIC_PREFIX"])


@dataclass
class Pipeline(RunEnvironment):
    """One run of the whole system: its own database and topics, its services as supervised processes.

    An instance is named `<command>` or `<command>#<n>` (several instances of one service); `ingest` and
    `ingest#n` run `windhash ingest range` over their own dates (`ranges`), others `windhash <command>`."""

    name: str
    env: dict[str, str]
    log_dir: Path
    first: date
    last: date
    ranges: dict[str, tuple[date, date]] = field(default_factory=dict)
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    started_at: dict[str, float] = field(default_factory=dict)
    ingests_done: set[str] = field(default_factory=set)
    events: list[str] = field(default_factory=list)
    kills: list[str] = field(default_factory=list)
    stopped: set[str] = field(default_factory=set)

    @property
    def ingest_done(self) -> bool:
        ingests = {name for name in self.services if name.split("#")[0] == "ingest"}
        return bool(ingests) and ingests <= self.ingests_done

    def start(self, name: str, force: bool = False, crash_at: str | None = None) -> None:
        command = name.split("#")[0]
        if command == "ingest":
            first, last = self.ranges.get(name, (self.first, self.last))
            args = ["ingest", "range", first.isoformat(), last.isoformat()]
        else:
            args = [command]
        env = dict(self.env)
        if crash_at:
            env["WINDHASH_CALCULATOR_CRASH_AT"] = crash_at
        log_path = self.log_dir / f"{name.replace('#', '-')}.log"
        service = ServiceProcess(command, [*args, *(["--force"] if force else [])], env, log_path)
        service.start()
        self.services[name] = service
        self.stopped.discard(name)
        self.started_at[name] = asyncio.get_running_loop().time()

    def stop(self, name: str) -> None:
        """Stop an instance for good (SIGTERM): the supervisor leaves it stopped."""
        self.stopped.add(name)
        self.services[name].stop()

    def supervise(self) -> None:
        """Restart what exited (after a short backoff), as systemd or Kubernetes would; note why it exited."""
        now = asyncio.get_running_loop().time()
        for name, service in list(self.services.items()):
            if service.running or service.process is None or name in self.stopped:
                continue
            code = service.process.returncode
            if name.split("#")[0] == "ingest" and code == 0:
                self.ingests_done.add(name)
                continue
            if now - self.started_at[name] < RESTART_BACKOFF_S:
                continue
            cause = "its crash point (SIGKILL)" if code == -9 else f"exit code {code}: {last_error(service)}"
            self.events.append(f"{name} exited on its own ({cause}); restarted")
            self.start(name)

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


async def prepare(
    endpoints: StackEndpoints,
    name: str,
    elexon_url: str,
    log_dir: Path,
    dates: tuple[date, date],
    layout: TopicLayout,
    extra_env: Mapping[str, str] | None = None,
) -> Pipeline:
    """A database (`windhash_<name>_<random>`) and topics (prefix `<name>-<random>`) of the run's own, with
    the packaged difficulty and prices loaded; `drop_database` removes the database afterwards."""
    unique = f"{name}_{uuid.uuid4().hex[:8]}"
    database = f"windhash_{unique}"
    admin = await asyncpg.connect(endpoints.postgres_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    dsn = urlsplit(endpoints.postgres_dsn)._replace(path=f"/{database}").geturl()
    await migrate_database(dsn)
    prefix = unique.replace("_", "-")
    await ensure_topics(endpoints.kafka_bootstrap, Topics(prefix), layout)
    env = {
        "WINDHASH_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
        "WINDHASH_DATABASE_URL": dsn,
        "WINDHASH_DYNAMODB_ENDPOINT": endpoints.dynamodb_endpoint,
        "WINDHASH_TOPIC_PREFIX": prefix,
        "WINDHASH_TOPIC_PARTITIONS": str(layout.partitions),
        "WINDHASH_TOPIC_REPLICATION_FACTOR": str(layout.replication_factor),
        "WINDHASH_TOPIC_MIN_INSYNC_REPLICAS": str(layout.min_insync_replicas),
        "WINDHASH_DIFFICULTY_TABLE": f"{unique}_difficulty",
        "WINDHASH_ELEXON_BASE_URL": elexon_url,
        "WINDHASH_ELEXON_CONCURRENCY": "2",
        "WINDHASH_ELEXON_BACKOFF_MAX_SECONDS": "2",
        "WINDHASH_METRICS_PORT": "0",
        "WINDHASH_CALCULATOR_BATCH_MESSAGES": "25",
        **(extra_env or {}),
    }
    run_env = {**os.environ, **env}
    for step in (["difficulty", "load"], ["prices", "load"]):
        done = await asyncio.to_thread(
            subprocess.run, [*WINDHASH, *step], env=run_env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return Pipeline(name, env, log_dir / unique, dates[0], dates[1])


async def drop_database(endpoints: StackEndpoints, pipeline: Pipeline) -> None:
    database = urlsplit(pipeline.dsn).path.lstrip("/")
    admin = await asyncpg.connect(endpoints.postgres_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()


async def caught_up(pipeline: Pipeline) -> str | None:
    """None once everything is through every stage; otherwise what is still missing."""
    if not pipeline.ingest_done:
        return "the backfill has not finished"
    connection = await asyncpg.connect(pipeline.dsn)
    try:
        progress = await pipeline_progress(connection, pipeline.first, pipeline.last)
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
    partitions = int(pipeline.env["WINDHASH_TOPIC_PARTITIONS"])
    ends = await end_offsets(
        pipeline.env["WINDHASH_KAFKA_BOOTSTRAP"],
        [topics.settlement_periods, topics.period_calculated],
        partitions,
    )
    for group, topic in (
        (CALCULATOR_GROUP, topics.settlement_periods),
        (AGGREGATOR_GROUP, topics.period_calculated),
    ):
        for tp, end in ends.items():
            if tp.topic == topic and stored.get((group, topic, tp.partition), 0) < end:
                return f"{group} at {stored.get((group, topic, tp.partition), 0)} of {end} on {tp}"
    return None


async def end_offsets(bootstrap: str, topics: list[str], partitions: int) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends: dict[TopicPartition, int] = await consumer.end_offsets(
            [TopicPartition(topic, partition) for topic in topics for partition in range(partitions)]
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


async def dead_letters(pipeline: Pipeline) -> int:
    """Messages on the run's dead-letter topic (the ingestor's, and every consumer's through the outbox)."""
    partitions = int(pipeline.env["WINDHASH_TOPIC_PARTITIONS"])
    bootstrap = pipeline.env["WINDHASH_KAFKA_BOOTSTRAP"]
    return sum((await end_offsets(bootstrap, [pipeline.topics.dead_letter], partitions)).values())
