"""Shared by the reconciliation tests: the real pipeline run in process (ingestor → Kafka → calculator →
PostgreSQL → outbox → Kafka → aggregator) against the synthetic Elexon server, and whole-database snapshots.

No tests here; the module is imported by test_reconcile_*.py.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
from windhash_aggregator.runner import run_aggregator
from windhash_aggregator.settings import AggregatorSettings
from windhash_calculator.runner import run_calculator
from windhash_calculator.settings import CalculatorSettings
from windhash_cli.pipeline_completion import pipeline_progress
from windhash_cli.reconciler_wiring import IngestorRefetcher
from windhash_common.btc_prices import packaged_synthetic_prices_2024, store_prices
from windhash_common.db import migrate_database
from windhash_common.difficulty_store import open_difficulty_store, packaged_difficulty_2024
from windhash_elexon_sim import ElexonSimServer
from windhash_ingestor.backfill import ingest_range
from windhash_ingestor.settings import IngestorSettings
from windhash_reconciler.settings import ReconcilerSettings

# Written by the clock (now()) or by the relay, not derived from the data: not part of "the same rows".
VOLATILE_COLUMNS = {"updated_at", "added_at", "first_seen", "last_seen", "marked_at", "applied_at"}
# Logs of work done (events sent, runs), not state: a repair adds to them by design.
LOG_TABLES = {"outbox", "schema_migrations", "reconcile_jobs"}


@dataclass(frozen=True)
class PipelineSettings:
    """The settings of every service a reconciliation test runs, from the same environment."""

    reconciler: ReconcilerSettings
    ingestor: IngestorSettings
    calculator: CalculatorSettings
    aggregator: AggregatorSettings

    @property
    def database_url(self) -> str:
        return self.reconciler.database_url

    @property
    def refetcher(self) -> IngestorRefetcher:
        """Re-fetching as `windhash reconcile` wires it: through the ingestor's period ingest."""
        return IngestorRefetcher(self.ingestor)


def reconcile_settings(sim: ElexonSimServer, **changes: Any) -> PipelineSettings:
    """`changes` are the reconciler's settings."""
    reconciler: dict[str, Any] = {"metrics_port": 0, "self_check_previous_month": False}
    reconciler.update(changes)
    return PipelineSettings(
        reconciler=ReconcilerSettings.model_validate(reconciler),
        ingestor=IngestorSettings(
            elexon_base_url=sim.base_url,
            elexon_max_retries=2,
            elexon_backoff_initial_seconds=0.05,
            elexon_backoff_max_seconds=0.2,
            metrics_port=0,
        ),
        calculator=CalculatorSettings(
            metrics_port=0,
            calculator_batch_wait_seconds=0.1,
            calculator_pending_sweep_seconds=3600,
            calculator_relay_interval_seconds=0.1,
        ),
        aggregator=AggregatorSettings(metrics_port=0),
    )


async def load_reference_data(settings: PipelineSettings) -> None:
    """Difficulty (DynamoDB) and prices (PostgreSQL), as `windhash difficulty load` / `prices load` do."""
    await migrate_database(settings.database_url)
    async with open_difficulty_store(settings.calculator) as store:
        await store.ensure_table()
        await store.add_difficulties(packaged_difficulty_2024(), source="test")
    connection = await asyncpg.connect(settings.database_url)
    try:
        await store_prices(connection, packaged_synthetic_prices_2024(), overwrite=True)
    finally:
        await connection.close()


@asynccontextmanager
async def running_services(settings: PipelineSettings) -> AsyncIterator[None]:
    """The calculator and the aggregator, in this event loop, until the block ends."""
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(run_calculator(settings.calculator, stop)),
        asyncio.create_task(run_aggregator(settings.aggregator, stop)),
    ]
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)


async def eventually(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 180) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.3)


async def pipeline_settled(dsn: str, first: date, last: date) -> bool:
    connection = await asyncpg.connect(dsn)
    try:
        progress = await pipeline_progress(connection, first, last)
        stale = await connection.fetchval("SELECT count(*) FROM summary_stale_days")
        return progress.complete and progress.periods_calculated == progress.periods_expected and stale == 0
    finally:
        await connection.close()


async def ingest_through_pipeline(settings: PipelineSettings, first: date, last: date) -> None:
    """Ingest the days while the services run, and wait until every stage has caught up."""
    async with running_services(settings):
        report = await ingest_range(settings.ingestor, first, last)
        assert not report.failures, report.failures
        await eventually(lambda: pipeline_settled(settings.database_url, first, last), "the pipeline")


async def snapshot(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (volatile columns and logs left out), sorted, for a row-for-row compare."""
    connection = await asyncpg.connect(dsn)
    try:
        tables = [
            row[0]
            for row in await connection.fetch(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
            )
            if row[0] not in LOG_TABLES
        ]
        found: dict[str, list[tuple[Any, ...]]] = {}
        for table in tables:
            columns = [
                row[0]
                for row in await connection.fetch(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
                    table,
                )
                if row[0] not in VOLATILE_COLUMNS
            ]
            rows = await connection.fetch(f"SELECT {', '.join(columns)} FROM {table}")
            found[table] = sorted((tuple(row) for row in rows), key=repr)
        return found
    finally:
        await connection.close()
