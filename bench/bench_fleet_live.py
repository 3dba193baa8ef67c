"""The fleet live benchmark: 60,000 simulated miners polled once a minute, each reading to its row.

Several `windhash fleet-sim` processes (one listening socket per miner: this machine's RLIMIT_NOFILE holds
~18,900 per process), their miners registered at a site each, `windhash fleet collector` processes sharing
the shards, Kafka and `windhash fleet writer`, each its own process. After the first full cycle (every miner
has a row) a window of whole minutes is measured: the reading-to-row lag is the writer's own histogram
(`windhash_fleet_writer_reading_lag_seconds`: from the collector's receipt of a reply to the row's commit),
its increase over the window, quantiles interpolated within buckets as Prometheus does; the collectors'
lag and poll outcomes likewise; every process's peak RSS (VmHWM) and CPU from /proc.
"""

import asyncio
import csv
import io
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families
from windhash_common.topics import Topics
from windhash_fleet.fleet_registry import NewMiner
from windhash_stack import StackEndpoints
from windhash_stack.ports import free_port

from bench.bench_fleet_sites import register_sites
from bench.bench_pipeline import create_scratch, drop_scratch
from bench.bench_services import Services

LAG = "windhash_fleet_writer_reading_lag_seconds_bucket"


@dataclass(frozen=True)
class LiveOptions:
    miners: int = 60_000
    simulators: int = 4
    collectors: int = 2
    shards: int = 8
    poll_interval_s: float = 60.0
    window_minutes: int = 3
    partitions: int = 6
    log_dir: Path = Path("/tmp")
    deadline_s: float = 900.0


@dataclass
class LiveFigures:
    miners: int
    window_s: float = 0.0
    rows_in_window: int = 0
    lag_p50_s: float = 0.0
    lag_p99_s: float = 0.0
    lag_max_bucket: str = ""
    collector_lag_max_s: float = 0.0
    polls: dict[str, float] = field(default_factory=dict)
    peak_kib: dict[str, int] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)


def scrape(url: str) -> dict[str, dict[str, float]]:
    """name → {label signature → value} for the samples this benchmark reads."""
    found: dict[str, dict[str, float]] = defaultdict(dict)
    for family in text_string_to_metric_families(httpx.get(url, timeout=10).text):
        for sample in family.samples:
            if sample.name.startswith(("windhash_fleet_", "windhash_consumer_")):
                signature = ",".join(f"{key}={value}" for key, value in sorted(sample.labels.items()))
                found[sample.name][signature] = sample.value
    return found


def quantile(q: float, before: dict[str, float], after: dict[str, float]) -> float:
    """The q-quantile of the observations between two scrapes of a histogram, linear within its bucket."""
    buckets = sorted(
        (float(signature.split("le=")[1].split(",")[0]), after[signature] - before.get(signature, 0.0))
        for signature in after
    )
    total = buckets[-1][1]
    if total <= 0:
        return 0.0
    rank, lower, below = q * total, 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return lower
            inside = count - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 0.0)
        lower, below = bound, count
    return lower


async def start_simulators(services: Services, options: LiveOptions) -> list[str]:
    per = options.miners // options.simulators
    urls = []
    for index in range(options.simulators):
        port = free_port()
        args = ["fleet-sim", "--miners", str(per), "--base-address", f"127.{120 + index}.0.1"]
        args += ["--control-port", str(port), "--serial-prefix", f"LIVE{index}", "--seed", str(index + 1)]
        services.start(f"fleet-sim-{index}", *args)
        urls.append(f"http://127.0.0.1:{port}")
    async with httpx.AsyncClient(timeout=2) as client:
        for index, url in enumerate(urls):
            deadline = time.monotonic() + 120
            while True:
                services.check_alive(f"fleet-sim-{index}")
                try:
                    if (await client.get(f"{url}/_sim/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"simulator {index} did not start")
                await asyncio.sleep(0.5)
    return urls


async def register(dsn: str, topics: Topics, urls: list[str]) -> None:
    """Each simulator's miners at a site of their own."""
    sites: dict[str, list[NewMiner]] = {}
    async with httpx.AsyncClient(timeout=60) as client:
        for index, url in enumerate(urls):
            listing = (await client.get(f"{url}/_sim/miners.csv")).text
            sites[f"Live site {index + 1} (SYNTHETIC)"] = [
                NewMiner(r["serial_number"], r["miner_model"], r["api_host"], int(r["api_port"]))
                for r in csv.DictReader(io.StringIO(listing))
            ]
    await register_sites(dsn, topics, sites, Decimal(200))


async def every_miner_reported(dsn: str, miners: int) -> bool:
    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM miner_telemetry_latest")) >= miners
    finally:
        await connection.close()


async def sample(services: Services, stop: asyncio.Event) -> None:
    while not stop.is_set():
        services.sample_memory()
        services.check_alive(*services.running)
        await asyncio.sleep(1.0)


def _sum(values: dict[str, float]) -> float:
    return sum(values.values())


async def measure(services: Services, options: LiveOptions, dsn: str, ports: dict[str, int]) -> LiveFigures:
    figures = LiveFigures(options.miners)
    deadline = time.monotonic() + options.deadline_s
    while not await every_miner_reported(dsn, options.miners):
        if time.monotonic() > deadline:
            raise TimeoutError("not every miner reported within the deadline")
        await asyncio.sleep(2.0)
    writer_url = f"http://127.0.0.1:{ports['writer']}/metrics"
    collector_urls = [
        f"http://127.0.0.1:{ports[f'collector-{i}']}/metrics" for i in range(options.collectors)
    ]
    before = scrape(writer_url)
    polls_before = [scrape(url)["windhash_fleet_polls_total"] for url in collector_urls]
    started = time.monotonic()
    await asyncio.sleep(options.window_minutes * 60)
    figures.window_s = time.monotonic() - started
    after = scrape(writer_url)
    figures.lag_p50_s = quantile(0.50, before[LAG], after[LAG])
    figures.lag_p99_s = quantile(0.99, before[LAG], after[LAG])
    rows = "windhash_fleet_writer_rows_total"
    figures.rows_in_window = int(_sum(after[rows]) - _sum(before[rows]))
    for url, earlier in zip(collector_urls, polls_before, strict=True):
        scraped = scrape(url)
        figures.collector_lag_max_s = max(
            figures.collector_lag_max_s, *scraped["windhash_fleet_collector_lag_seconds"].values()
        )
        for signature, value in scraped["windhash_fleet_polls_total"].items():
            outcome = signature.split("outcome=")[1]
            figures.polls[outcome] = figures.polls.get(outcome, 0.0) + value - earlier.get(signature, 0.0)
    return figures


async def run_live(endpoints: StackEndpoints, options: LiveOptions) -> LiveFigures:
    scratch = f"bench_live_{uuid.uuid4().hex[:8]}"
    topics = Topics(f"benchlive{uuid.uuid4().hex[:8]}")
    dsn = await create_scratch(endpoints, scratch, topics, options.partitions)
    ports = {"writer": free_port(), **{f"collector-{i}": free_port() for i in range(options.collectors)}}
    env = {
        "WINDHASH_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
        "WINDHASH_DATABASE_URL": dsn,
        "WINDHASH_TOPIC_PREFIX": topics.prefix,
        "WINDHASH_TOPIC_PARTITIONS": str(options.partitions),
        "WINDHASH_FLEET_POLL_INTERVAL_S": str(options.poll_interval_s),
        "WINDHASH_FLEET_SHARD_COUNT": str(options.shards),
        "WINDHASH_FLEET_MAX_SHARDS": str(max(1, options.shards // options.collectors)),
        "WINDHASH_FLEET_WRITER_GROUP": f"bench-live-{topics.prefix}",
        "WINDHASH_FLEET_WRITER_METRICS_PORT": str(ports["writer"]),
    }
    services = Services(env, options.log_dir / "fleet-live")
    stop = asyncio.Event()
    sampler: asyncio.Task[None] | None = None
    try:
        urls = await start_simulators(services, options)
        await register(dsn, topics, urls)
        services.start("writer", "fleet", "writer")
        for index in range(options.collectors):
            port = str(ports[f"collector-{index}"])
            services.start(f"collector-{index}", "fleet", "collector", extra={"WINDHASH_METRICS_PORT": port})
        sampler = asyncio.create_task(sample(services, stop))
        figures = await measure(services, options, dsn, ports)
        services.sample_memory()
        figures.peak_kib, figures.cpu_s = dict(services.peak_kib), dict(services.cpu_s)
        return figures
    finally:
        stop.set()
        if sampler is not None:
            await asyncio.gather(sampler, return_exceptions=True)
        services.stop_all()
        await drop_scratch(endpoints, scratch, topics)
