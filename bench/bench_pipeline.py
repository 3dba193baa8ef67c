"""The whole pipeline, measured: a span of synthetic Elexon data (default: the year 2024) from the local
Elexon server through ingestor → Kafka → calculator → PostgreSQL → aggregator, each service its own process.

    windhash bench [--from 2024-01-01] [--to 2024-12-31] [--api] [--api-seconds 180]
    .venv/bin/python -m bench.bench_pipeline --from 2024-03-01 --to 2024-03-31 [--profile DIR]

On the local stack (started when it is not running), in a scratch database and topic prefix dropped at the
end:
1. the services start and report ready; the clock starts with `windhash ingest range FROM TO`;
2. it stops when every period is calculated, the outbox is relayed and every summary is current (the same
   test as `pipeline_progress`, plus every consumer at the end of its topic);
3. peak memory per service is each process's VmHWM (/proc/<pid>/status); CPU per process is utime + stime
   between the start and the end of the clock (bench_cpu.py), the backfill's from RUSAGE_CHILDREN when it
   exits; summary freshness is the aggregator's own histogram (bench_metrics.py);
4. the calculator's write rate is its calculation rows over the seconds it spent in its write transactions
   (its own `windhash_calculator_batch_seconds` and `..._calculations_written_total` metrics, this run);
   in the same run and database the same rows are then COPY'd raw and INSERTed one per row
   (bench/bench_calculator_writes.py's `raw_copy` and `insert_per_row`), on samples of the rows;
5. with --api, 50 clients load the API over the pipeline's own output, cached and then uncached
   (bench/bench_api_compare.py); with --profile DIR, py-spy samples each service and PostgreSQL's statements
   and indexes are read (bench/bench_profile.py).
The table is printed and written to docs/BENCHMARKS.md with the machine it ran on.
"""

import argparse
import asyncio
import contextlib
import os
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from windhash_cli.pipeline_completion import pipeline_progress
from windhash_cli.service_processes import WINDHASH
from windhash_common import event_loop
from windhash_common.curtailment_facts.rows import CALCULATION_COLUMNS, CalculationRow
from windhash_common.db import migrate_database
from windhash_common.settings import CommonSettings
from windhash_common.settlement_calendar import dates_between, settlement_periods_in_day
from windhash_common.topics import Topics, ensure_topics
from windhash_stack import LocalStack, StackEndpoints, StackSettings
from windhash_stack.ports import free_port

from bench.bench_api_compare import compare_api
from bench.bench_calculator_writes import insert_per_row, raw_copy
from bench.bench_cpu import CpuLedger, children_cpu_seconds, stack_cpu_seconds
from bench.bench_metrics import calculator_write_seconds, freshness
from bench.bench_profile import Profiler, database_profile, start_statement_stats, write_profile
from bench.bench_report import BenchFigures, print_figures, write_benchmarks
from bench.bench_services import Services, wait_http, wait_services_ready

REPO = Path(__file__).resolve().parents[1]
POLL_S = 0.5
CALCULATOR_GROUP, AGGREGATOR_GROUP = "windhash-calculator", "windhash-aggregator"


@dataclass(frozen=True)
class BenchOptions:
    first: date = date(2024, 1, 1)
    last: date = date(2024, 12, 31)
    api: bool = False
    api_seconds: float = 60.0
    api_clients: int = 50
    output: Path | None = REPO / "docs" / "BENCHMARKS.md"
    copy_sample_rows: int = 500_000
    insert_sample_rows: int = 20_000
    deadline_s: float = 3600.0
    profile_dir: Path | None = None


@dataclass
class Timeline:
    started: float
    ingested: float | None = None
    calculated: float | None = None
    summarised: float | None = None


async def run_pipeline(options: BenchOptions, services: Services, dsn: str, topics: Topics) -> Timeline:
    """Starts the backfill and returns once every stage has caught up, noting when each one did."""
    expected = sum(settlement_periods_in_day(day) for day in dates_between(options.first, options.last))
    timeline = Timeline(started=time.perf_counter())
    children_before = children_cpu_seconds()
    ingest = services.start("ingest", "ingest", "range", options.first.isoformat(), options.last.isoformat())
    connection = await asyncpg.connect(dsn)
    consumer = AIOKafkaConsumer(bootstrap_servers=services.env["WINDHASH_KAFKA_BOOTSTRAP"])
    await consumer.start()
    try:
        while timeline.summarised is None:
            await asyncio.sleep(POLL_S)
            services.sample_memory()
            now = time.perf_counter()
            if now - timeline.started > options.deadline_s:
                raise TimeoutError(f"the pipeline did not finish in {options.deadline_s:.0f} s")
            services.check_alive("calculator", "aggregator")
            if timeline.ingested is None and ingest.process is not None and not ingest.running:
                if ingest.process.returncode != 0:
                    raise RuntimeError(f"the backfill failed:\n{ingest.log_tail()}")
                timeline.ingested = now
                # Exact, whenever it exited: the only child reaped while the clock runs is the backfill.
                services.cpu_s["ingest"] = children_cpu_seconds() - children_before
            if timeline.calculated is None:
                # Only the cheap count until then: the full progress check scans a year of records, and
                # polling it twice a second would make the bench itself a large share of PostgreSQL's work.
                if await periods_calculated(connection, options) == expected:
                    timeline.calculated = now
                continue
            progress = await pipeline_progress(connection, options.first, options.last)
            caught_up = timeline.ingested and progress.complete
            if caught_up and await consumers_at_end(connection, consumer, topics, services.env):
                timeline.summarised = now
    finally:
        await consumer.stop()
        await connection.close()
    return timeline


async def periods_calculated(connection: asyncpg.Connection, options: BenchOptions) -> int:
    count = await connection.fetchval(
        "SELECT count(*) FROM settlement_periods WHERE settlement_date BETWEEN $1 AND $2"
        " AND status = 'calculated'",
        options.first,
        options.last,
    )
    return int(count)


async def consumers_at_end(
    connection: asyncpg.Connection, consumer: AIOKafkaConsumer, topics: Topics, env: dict[str, str]
) -> bool:
    partitions = int(env["WINDHASH_TOPIC_PARTITIONS"])
    stages = ((CALCULATOR_GROUP, topics.settlement_periods), (AGGREGATOR_GROUP, topics.period_calculated))
    ends = await consumer.end_offsets(
        [TopicPartition(topic, partition) for _, topic in stages for partition in range(partitions)]
    )
    rows = await connection.fetch(
        "SELECT consumer_group, topic, partition, next_offset FROM consumer_positions"
    )
    stored = {(row[0], row[1], row[2]): row[3] for row in rows}
    stale = await connection.fetchval("SELECT count(*) FROM summary_stale_days")
    groups = dict(stages)
    return stale == 0 and all(
        stored.get((group, tp.topic, tp.partition), 0) >= end
        for tp, end in ends.items()
        for group, topic in groups.items()
        if topic == tp.topic
    )


async def write_baselines(dsn: str, options: BenchOptions) -> tuple[float, float, int, int]:
    """Raw COPY and one INSERT per row of samples of the run's own calculation rows, in its database.
    Runs last: both baselines empty bitcoin_calculations first."""
    connection = await asyncpg.connect(dsn)
    try:
        columns = ", ".join(CALCULATION_COLUMNS)
        records = await connection.fetch(
            f"SELECT {columns} FROM bitcoin_calculations ORDER BY settlement_date, settlement_period"
            " LIMIT $1",
            options.copy_sample_rows,
        )
        rows = [cast(CalculationRow, tuple(record)) for record in records]
        copy_seconds = await raw_copy(connection, rows)
        inserted = rows[: options.insert_sample_rows]
        insert_seconds = await insert_per_row(connection, inserted)
    finally:
        await connection.close()
    return len(rows) / copy_seconds, len(inserted) / insert_seconds, len(rows), len(inserted)


async def create_scratch(endpoints: StackEndpoints, database: str, topics: Topics, partitions: int) -> str:
    admin = await asyncpg.connect(endpoints.postgres_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    dsn = urlsplit(endpoints.postgres_dsn)._replace(path=f"/{database}").geturl()
    await migrate_database(dsn)
    await ensure_topics(endpoints.kafka_bootstrap, topics, partitions)
    return dsn


async def drop_scratch(endpoints: StackEndpoints, database: str, topics: Topics) -> None:
    admin = await asyncpg.connect(endpoints.postgres_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()
    kafka = AIOKafkaAdminClient(bootstrap_servers=endpoints.kafka_bootstrap)
    await kafka.start()
    try:
        with contextlib.suppress(Exception):  # cleanup only
            await kafka.delete_topics(list(topics.all()))
    finally:
        await kafka.close()


async def load_reference_data(env: dict[str, str]) -> None:
    for step in (["difficulty", "load"], ["prices", "load"]):
        done = await asyncio.to_thread(
            subprocess.run, [*WINDHASH, *step], env={**os.environ, **env}, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"windhash {' '.join(step)} failed:\n{done.stdout}{done.stderr}")


async def measure(
    options: BenchOptions, endpoints: StackEndpoints, log_dir: Path, stack_pids: dict[str, int]
) -> BenchFigures:
    run_id = uuid.uuid4().hex[:8]
    database, topics = f"windhash_bench_{run_id}", Topics(f"bench{run_id}")
    partitions = CommonSettings().topic_partitions
    dsn = await create_scratch(endpoints, database, topics, partitions)
    sim_port, metrics_port, aggregator_port = free_port(), free_port(), free_port()
    env = {
        "WINDHASH_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
        "WINDHASH_DATABASE_URL": dsn,
        "WINDHASH_DYNAMODB_ENDPOINT": endpoints.dynamodb_endpoint,
        "WINDHASH_TOPIC_PREFIX": topics.prefix,
        "WINDHASH_TOPIC_PARTITIONS": str(partitions),
        "WINDHASH_DIFFICULTY_TABLE": "windhash_bench_difficulty",
        "WINDHASH_ELEXON_BASE_URL": f"http://127.0.0.1:{sim_port}/bmrs/api/v1",
        "WINDHASH_METRICS_PORT": "0",
    }
    profiler = Profiler(options.profile_dir) if options.profile_dir else None
    services = Services(env, log_dir, profiler=profiler)
    try:
        # The simulator renders the span's stacks before it listens: its data generation is the harness's
        # work (the real Elexon's), so it stays out of the timed window; serving them stays in.
        services.start(
            "elexon-sim",
            "elexon-sim",
            "--port",
            str(sim_port),
            "--prerender-from",
            options.first.isoformat(),
            "--prerender-to",
            options.last.isoformat(),
        )
        await wait_http(f"http://127.0.0.1:{sim_port}/_sim/health", services, "elexon-sim")
        await load_reference_data(env)
        services.start("calculator", extra={"WINDHASH_METRICS_PORT": str(metrics_port)})
        services.start("aggregator", extra={"WINDHASH_METRICS_PORT": str(aggregator_port)})
        await wait_services_ready(services, ("calculator", "aggregator"))
        statements = profiler is not None and await start_statement_stats(dsn)
        ledger = CpuLedger()
        services.sample_memory()
        ledger.start({**stack_cpu_seconds(stack_pids), **services.cpu_s})
        timeline = await run_pipeline(options, services, dsn, topics)
        services.sample_memory()
        ledger.read({**stack_cpu_seconds(stack_pids), **services.cpu_s})
        figures = await count_facts(dsn, options, timeline)
        figures.cpu_during_run = ledger.during_run()
        figures.peak_memory_kib = dict(services.peak_kib)
        figures.freshness = freshness(f"http://127.0.0.1:{aggregator_port}/metrics")
        written, write_seconds = calculator_write_seconds(f"http://127.0.0.1:{metrics_port}/metrics")
        figures.calculator_write_rate = written / write_seconds if write_seconds else 0.0
        if profiler is not None:
            profiler.stop()
            tables = await database_profile(dsn, statements)
            print(f"profile written to {write_profile(profiler.directory, profiler.summaries(), tables)}")
        if options.api:
            figures.api = await compare_api(
                dsn,
                options.first,
                options.last,
                options.api_clients,
                options.api_seconds,
                lambda: stack_cpu_seconds(stack_pids).get("postgres", 0.0),
            )
        services.stop_all()
        copy_rate, insert_rate, copy_rows, insert_rows = await write_baselines(dsn, options)
        figures.copy_rate, figures.insert_rate = copy_rate, insert_rate
        figures.copy_rows, figures.insert_rows = copy_rows, insert_rows
        return figures
    finally:
        if profiler is not None:
            profiler.stop()
        services.stop_all()
        await drop_scratch(endpoints, database, topics)


async def count_facts(dsn: str, options: BenchOptions, timeline: Timeline) -> BenchFigures:
    connection = await asyncpg.connect(dsn)
    try:
        progress = await pipeline_progress(connection, options.first, options.last)
        records = await connection.fetchval("SELECT count(*) FROM curtailment_records")
        calculations = await connection.fetchval("SELECT count(*) FROM bitcoin_calculations")
        energy = await connection.fetchval("SELECT coalesce(sum(energy_mwh), 0) FROM curtailment_daily")
    finally:
        await connection.close()
    assert timeline.ingested and timeline.calculated and timeline.summarised
    return BenchFigures(
        first=options.first,
        last=options.last,
        periods=progress.periods_expected,
        records=records,
        calculations=calculations,
        energy_mwh=float(energy),
        wall_s=timeline.summarised - timeline.started,
        ingest_s=timeline.ingested - timeline.started,
        calculate_s=timeline.calculated - timeline.started,
    )


async def run_bench(options: BenchOptions) -> BenchFigures:
    stack = LocalStack(StackSettings())
    report = await stack.lease()
    try:
        log_dir = StackSettings().state_dir / "logs" / f"bench-{time.strftime('%Y%m%dT%H%M%S')}"
        stack_pids = {server.value: pid for server, pid in stack.pids().items()}
        figures = await measure(options, report.endpoints, log_dir, stack_pids)
    finally:
        await stack.release()
    print_figures(figures)
    if options.output is not None:
        write_benchmarks(options.output, figures)
        print(f"written to {options.output}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--from", dest="first", type=date.fromisoformat, default=BenchOptions.first)
    parser.add_argument("--to", dest="last", type=date.fromisoformat, default=BenchOptions.last)
    parser.add_argument("--api", action="store_true", help="also load the API, cached and uncached")
    parser.add_argument("--api-seconds", type=float, default=BenchOptions.api_seconds)
    parser.add_argument("--api-clients", type=int, default=BenchOptions.api_clients)
    parser.add_argument("--output", type=Path, default=BenchOptions.output)
    parser.add_argument("--profile", type=Path, help="profile every process into this directory")
    args = parser.parse_args()
    options = BenchOptions(
        args.first,
        args.last,
        args.api,
        args.api_seconds,
        args.api_clients,
        output=args.output,
        profile_dir=args.profile,
    )
    event_loop.run(run_bench(options))


if __name__ == "__main__":
    main()
