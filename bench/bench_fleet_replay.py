"""The fleet replay benchmark: one day of telemetry (6,000 miners × once a minute = 8.64 M readings) on
Kafka, written into PostgreSQL by `windhash fleet writer` (its own process, its own database role),
measured; then the same rows COPYed raw into a table like miner_telemetry in the same database, for the
ratio.

1. a scratch database and topic prefix; the miners registered at two sites; the day's readings produced to the
   telemetry topic (as the collector publishes them: JSON keyed by serial; not timed);
2. the clock runs from the writer's start to its stored positions reaching the end of every partition;
3. the writer's own metrics give its write path: the rows over the seconds spent in its batch transactions
   (`windhash_consumer_batch_seconds`), which include the rollups; its peak RSS and CPU come from /proc;
4. the same rows, made by the same generator, are COPYed (only the COPY is timed) into a table with
   miner_telemetry's definition (partitioned by day, the same key), as the superuser: the raw baseline.
"""

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.kafka_broker import COMPRESSION
from windhash_common.topics import Topics
from windhash_fleet.fleet_registry import NewMiner
from windhash_stack import StackEndpoints
from windhash_stack.ports import free_port

from bench.bench_fleet_sites import register_sites
from bench.bench_pipeline import create_scratch, drop_scratch
from bench.bench_services import Services
from bench.fleet_replay_data import ReplayDay

PRODUCE_CHUNK = 20_000
COPY_CHUNK = 100_000
COLUMNS = ("miner_id", "recorded_at", "hashrate_ths", "temperature_c", "power_w", "fan_rpm", "sleeping")


@dataclass(frozen=True)
class ReplayOptions:
    miners: int = 6_000
    minutes: int = 1_440
    partitions: int = 6
    writers: int = 1
    batch_messages: int = 150_000
    deadline_s: float = 3_600.0
    log_dir: Path = Path("/tmp")


@dataclass
class ReplayFigures:
    readings: int
    produce_s: float = 0.0
    wall_s: float = 0.0
    write_path_s: float = 0.0
    rows_written: int = 0
    copy_s: float = 0.0
    scan_s: dict[str, float] = field(default_factory=dict)
    """A full scan of the day's telemetry (count and Σ power) as each role: what row-level security costs."""
    peak_kib: dict[str, int] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)

    @property
    def wall_rate(self) -> float:
        return self.rows_written / self.wall_s if self.wall_s else 0.0

    @property
    def write_path_rate(self) -> float:
        return self.rows_written / self.write_path_s if self.write_path_s else 0.0

    @property
    def copy_rate(self) -> float:
        return self.readings / self.copy_s if self.copy_s else 0.0


async def register(dsn: str, day: ReplayDay, topics: Topics) -> dict[str, int]:
    """Half the miners at each of two sites, addresses from 10.0.0.0/8 (never polled here); their ids by
    serial."""
    half = day.miners // 2
    sites = {
        f"Bench site {index + 1} (SYNTHETIC)": [
            NewMiner(day.serial(m), "S21", f"10.{m // 62_500}.{(m // 250) % 250}.{m % 250 + 1}")
            for m in range(first, last)
        ]
        for index, (first, last) in enumerate(((0, half), (half, day.miners)))
    }
    await register_sites(dsn, topics, sites, Decimal(50))
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT serial_number, miner_id FROM hosting_miners")
        return {row["serial_number"]: row["miner_id"] for row in rows}
    finally:
        await connection.close()


async def produce(bootstrap: str, topic: str, day: ReplayDay, partitions: int) -> float:
    """The day's readings in time order, each miner's on one partition (as keyed by serial); seconds taken."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", compression_type=COMPRESSION, max_batch_size=1_048_576
    )
    await producer.start()
    started = time.perf_counter()
    try:
        batches = {partition: producer.create_batch() for partition in range(partitions)}
        sends = []
        for count, (miner, minute) in enumerate(day.in_time_order(), start=1):
            key, value = day.message(miner, minute)
            partition = miner % partitions
            if batches[partition].append(key=key, value=value, timestamp=None) is None:
                sends.append(await producer.send_batch(batches[partition], topic, partition=partition))
                batches[partition] = producer.create_batch()
                batches[partition].append(key=key, value=value, timestamp=None)
            if count % PRODUCE_CHUNK == 0 and len(sends) > 64:
                await asyncio.gather(*sends)
                sends.clear()
        for partition, batch in batches.items():
            if batch.record_count():
                sends.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    return time.perf_counter() - started


def scrape(url: str) -> dict[str, float]:
    """The writer's counters and histogram sums this benchmark reads, by name (its group only)."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(httpx.get(url, timeout=10).text):
        for sample in family.samples:
            if sample.name in ("windhash_consumer_batch_seconds_sum", "windhash_fleet_writer_rows_total"):
                found[sample.name] = found.get(sample.name, 0.0) + sample.value
    return found


async def positions_at_end(dsn: str, topic: str, ends: dict[int, int], group: str) -> bool:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT partition, next_offset FROM consumer_positions WHERE consumer_group = $1 AND topic = $2",
            group,
            topic,
        )
    finally:
        await connection.close()
    stored = {row["partition"]: row["next_offset"] for row in rows}
    return all(stored.get(partition, 0) >= end for partition, end in ends.items())


async def topic_ends(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
        return {tp.partition: offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def write(
    services: Services, options: ReplayOptions, dsn: str, topic: str, ends: dict[int, int]
) -> float:
    """Start the writer(s); seconds until every partition is written."""
    group = services.env["WINDHASH_FLEET_WRITER_GROUP"]
    started = time.perf_counter()
    for index in range(options.writers):
        port = services.env[f"BENCH_WRITER_PORT_{index}"]
        services.start(
            f"writer-{index}", "fleet", "writer", extra={"WINDHASH_FLEET_WRITER_METRICS_PORT": port}
        )
    while not await positions_at_end(dsn, topic, ends, group):
        services.sample_memory()
        services.check_alive(*services.running)
        if time.perf_counter() - started > options.deadline_s:
            raise TimeoutError(f"the writer did not finish within {options.deadline_s:.0f} s")
        await asyncio.sleep(0.5)
    return time.perf_counter() - started


SCAN = "SELECT count(*), sum(power_w) FROM miner_telemetry"


async def scans(dsn: str) -> dict[str, float]:
    """The day's telemetry scanned whole as the owner (no policy applies), as the writer's role (its policy
    folds to `true`) and as the HTTP app's role for staff (the identity policy, all miners visible)."""
    seconds: dict[str, float] = {}
    staff = "SELECT set_config('windhash.client_scope', 'all', true)"
    for name, role, setup in (
        ("owner (no policy)", None, None),
        ("windhash_fleet (writer)", DatabaseRole.FLEET, None),
        ("windhash_fleet_api as staff", DatabaseRole.FLEET_API, staff),
    ):
        connection = await asyncpg.connect(dsn if role is None else dsn_as(dsn, role))
        try:
            async with connection.transaction():
                if setup:
                    await connection.execute(setup)
                await connection.fetchrow(SCAN)  # warm the cache: every role reads the same pages
                started = time.perf_counter()
                await connection.fetchrow(SCAN)
                seconds[name] = time.perf_counter() - started
        finally:
            await connection.close()
    return seconds


async def raw_copy(dsn: str, day: ReplayDay, ids: dict[str, int]) -> float:
    """Seconds to COPY the same rows into a table defined as miner_telemetry is (only the COPY timed)."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "CREATE TABLE bench_raw_copy (LIKE miner_telemetry INCLUDING ALL)"
            " PARTITION BY RANGE (recorded_at)"
        )
        start = datetime(day.day.year, day.day.month, day.day.day, tzinfo=UTC)
        await connection.execute(
            "CREATE TABLE bench_raw_copy_day PARTITION OF bench_raw_copy"
            f" FOR VALUES FROM ('{start.isoformat()}') TO ('{(start + timedelta(days=1)).isoformat()}')"
        )
        seconds = 0.0
        chunk: list[tuple[object, ...]] = []
        for miner, minute in day.in_time_order():
            chunk.append(day.row(ids[day.serial(miner)], miner, minute))
            if len(chunk) == COPY_CHUNK:
                seconds += await _timed_copy(connection, chunk)
                chunk = []
        if chunk:
            seconds += await _timed_copy(connection, chunk)
        return seconds
    finally:
        await connection.close()


async def _timed_copy(connection: asyncpg.Connection, rows: list[tuple[object, ...]]) -> float:
    started = time.perf_counter()
    await connection.copy_records_to_table("bench_raw_copy", records=rows, columns=COLUMNS)
    return time.perf_counter() - started


async def run_replay(endpoints: StackEndpoints, options: ReplayOptions) -> ReplayFigures:
    day = ReplayDay(datetime.now(UTC).date() - timedelta(days=1), options.miners, options.minutes)
    figures = ReplayFigures(readings=day.readings)
    scratch = f"bench_fleet_{uuid.uuid4().hex[:8]}"
    topics = Topics(f"benchfleet{uuid.uuid4().hex[:8]}")
    dsn = await create_scratch(endpoints, scratch, topics, options.partitions)
    env = {
        "WINDHASH_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
        "WINDHASH_DATABASE_URL": dsn,
        "WINDHASH_TOPIC_PREFIX": topics.prefix,
        "WINDHASH_TOPIC_PARTITIONS": str(options.partitions),
        "WINDHASH_FLEET_WRITER_GROUP": f"bench-writer-{topics.prefix}",
        "WINDHASH_FLEET_WRITER_BATCH_MESSAGES": str(options.batch_messages),
        "WINDHASH_FLEET_WRITER_BATCH_WAIT_MS": "200",
        **{f"BENCH_WRITER_PORT_{index}": str(free_port()) for index in range(options.writers)},
    }
    services = Services(env, options.log_dir / "fleet-replay")
    try:
        ids = await register(dsn, day, topics)
        figures.produce_s = await produce(
            endpoints.kafka_bootstrap, topics.miner_telemetry, day, options.partitions
        )
        ends = await topic_ends(endpoints.kafka_bootstrap, topics.miner_telemetry, options.partitions)
        figures.wall_s = await write(services, options, dsn, topics.miner_telemetry, ends)
        for index in range(options.writers):
            scraped = scrape(f"http://127.0.0.1:{env[f'BENCH_WRITER_PORT_{index}']}/metrics")
            figures.write_path_s += scraped.get("windhash_consumer_batch_seconds_sum", 0.0)
            figures.rows_written += int(scraped.get("windhash_fleet_writer_rows_total", 0))
        services.sample_memory()
        figures.peak_kib, figures.cpu_s = dict(services.peak_kib), dict(services.cpu_s)
        services.stop_all()
        figures.scan_s = await scans(dsn)
        figures.copy_s = await raw_copy(dsn, day, ids)
    finally:
        services.stop_all()
        await drop_scratch(endpoints, scratch, topics)
    return figures
