"""Benchmark of the calculator's write path against the two ends of the scale.

    real write path   apply_messages(): records and calculations via COPY, periods, positions and outbox, one
                      transaction per batch of 200 periods (what the service does); run twice:
                      fresh periods, then a revision of each (a later snapshot replaces records and
                      calculations, so the explicit deletes are measured too)
    raw COPY          the same calculation rows COPY'd straight into bitcoin_calculations
    INSERT per row    the same rows, one INSERT statement (one round trip) each, in one transaction

Prints calculation rows per second for each and the ratios, and the CPU the write path costs: this process
(decoding, row building, encoding: `time.process_time`) and the PostgreSQL backend serving its connection
(utime + stime of /proc/<pg_backend_pid()>/stat, when the server runs on this machine), each run in a new
database. On a shared machine compare the CPU figures, not the wall times. Usage:
    python bench/bench_calculator_writes.py [--dsn postgresql://...] [--periods 200] [--records 30]
                                            [--repeat 1] [--path-only] [--schema-sql SQL ...]
The DSN names any database on the server (default: WINDHASH_DATABASE_URL); the benchmark works in scratch
databases it creates and drops. --schema-sql runs statements after the migrations, to measure a schema variant
(e.g. the foreign keys migration 0600 dropped, added back).
"""

import argparse
import contextlib
import os
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
from windhash_calculator.handler import apply_messages
from windhash_calculator.settings import CalculatorSettings
from windhash_common import event_loop
from windhash_common.bitcoin import MINED_HALVINGS
from windhash_common.consumer_runtime.messages import ConsumedMessage
from windhash_common.curtailment_facts.rows import CALCULATION_COLUMNS, CalculationRow, calculation_rows
from windhash_common.curtailment_facts.rows import event_record_energies as record_energies
from windhash_common.db import migrate_database
from windhash_common.events import CurtailmentRecord, SettlementPeriodEvent
from windhash_common.miner_models import MinerModel, active_miner_models
from windhash_common.settlement_calendar import settlement_periods
from windhash_common.topics import Topics

BATCH = 200
FIRST_DAY = date(2024, 1, 1)
DIFFICULTY = Decimal(72006146478567)
FETCHED = datetime(2024, 6, 1, tzinfo=UTC)


def synthetic_events(
    periods: int, records: int, fetched: datetime = FETCHED, first_day: date = FIRST_DAY
) -> list[SettlementPeriodEvent]:
    events: list[SettlementPeriodEvent] = []
    day = first_day
    while len(events) < periods:
        for period in settlement_periods(day):
            recs = tuple(
                CurtailmentRecord(
                    bm_unit=f"T_BENCH-{index % 50}",
                    acceptance_id=period * 1000 + index,
                    bid_offer_pair_id=-(index % 3) - 1,
                    sequence_number=1,
                    created_at=fetched,
                    volume_mwh=Decimal(-(index % 97) - 1) / 7,
                    original_price_gbp_per_mwh=Decimal("-55.25"),
                    final_price_gbp_per_mwh=None,
                    cashflow_gbp=(Decimal(-(index % 97) - 1) / 7 * Decimal("-55.25")).quantize(
                        Decimal("0.0001")
                    ),
                    so_flag=True,
                    cadl_flag=False,
                )
                for index in range(records)
            )
            events.append(SettlementPeriodEvent.build(day, period, recs, fetched, synthetic=True))
            if len(events) == periods:
                break
        day += timedelta(days=1)
    return events


@dataclass(frozen=True)
class PathCost:
    wall_seconds: float
    client_cpu_seconds: float
    backend_user_seconds: float | None
    backend_system_seconds: float | None


def backend_cpu_seconds(pid: int) -> tuple[float, float] | None:
    """(user, system) CPU seconds of a local PostgreSQL backend; None when its /proc entry is not readable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    # After "pid (comm)": field 3 is the state, so utime (14) and stime (15) are at indexes 11 and 12.
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


async def real_write_path(connection: asyncpg.Connection, events: list[SettlementPeriodEvent]) -> PathCost:
    # Offsets follow on from the stored position, so a second pass (a revision) is applied, not skipped.
    first_offset = await connection.fetchval(
        "SELECT coalesce(max(next_offset), 0) FROM consumer_positions WHERE consumer_group = 'bench'"
    )
    messages = [
        ConsumedMessage("bench", 0, first_offset + n, event.kafka_key, event.model_dump_json().encode())
        for n, event in enumerate(events)
    ]
    difficulties = {day: DIFFICULTY for day in {e.period_start_utc.astimezone(UTC).date() for e in events}}
    backend = await connection.fetchval("SELECT pg_backend_pid()")
    backend_before = backend_cpu_seconds(backend)
    cpu_before = time.process_time()
    started = time.perf_counter()
    for start in range(0, len(messages), BATCH):
        # Decoding is part of the path the service runs per batch, so it is timed too.
        await apply_messages(
            connection, messages[start : start + BATCH], "bench", Topics("bench"), difficulties,
            MINED_HALVINGS, 10_000_000,
        )  # fmt: skip
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    backend_after = backend_cpu_seconds(backend)
    if backend_before is None or backend_after is None:
        return PathCost(wall, cpu, None, None)
    return PathCost(wall, cpu, backend_after[0] - backend_before[0], backend_after[1] - backend_before[1])


async def raw_copy(connection: asyncpg.Connection, rows: list[CalculationRow]) -> float:
    await connection.execute("TRUNCATE bitcoin_calculations")
    started = time.perf_counter()
    await connection.copy_records_to_table("bitcoin_calculations", records=rows, columns=CALCULATION_COLUMNS)
    return time.perf_counter() - started


async def insert_per_row(connection: asyncpg.Connection, rows: list[CalculationRow]) -> float:
    await connection.execute("TRUNCATE bitcoin_calculations")
    placeholders = ", ".join(f"${n}" for n in range(1, len(CALCULATION_COLUMNS) + 1))
    sql = f"INSERT INTO bitcoin_calculations ({', '.join(CALCULATION_COLUMNS)}) VALUES ({placeholders})"
    started = time.perf_counter()
    async with connection.transaction():
        for row in rows:
            await connection.execute(sql, *row)
    return time.perf_counter() - started


@contextlib.asynccontextmanager
async def scratch_database(server_dsn: str, schema_sql: list[str]) -> AsyncIterator[asyncpg.Connection]:
    """A new, migrated database (dropped afterwards), so every run starts from the same empty tables."""
    name = f"windhash_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = urlsplit(server_dsn)._replace(path=f"/{name}").geturl()
    try:
        await migrate_database(dsn)
        connection = await asyncpg.connect(dsn)
        try:
            for statement in schema_sql:
                await connection.execute(statement)
            yield connection
        finally:
            await connection.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def bench(
    server_dsn: str, periods: int, records: int, repeat: int, path_only: bool, schema_sql: list[str]
) -> None:
    events = synthetic_events(periods, records)
    revised = synthetic_events(periods, records, FETCHED + timedelta(hours=1))
    fresh_costs, revision_costs = [], []
    for run in range(repeat):
        async with scratch_database(server_dsn, schema_sql) as connection:
            models = await active_miner_models(connection)
            rows = [
                row
                for e in events
                for row in calculation_rows(
                    e.settlement_date,
                    e.settlement_period,
                    e.period_start_utc,
                    record_energies(e),
                    models,
                    DIFFICULTY,
                    MINED_HALVINGS,
                )
            ]
            fresh_costs.append(await real_write_path(connection, events))
            revision_costs.append(await real_write_path(connection, revised))
            assert await connection.fetchval("SELECT count(*) FROM bitcoin_calculations") == len(rows)
            if run == repeat - 1:
                report(events, models, rows, fresh_costs, revision_costs)
                if not path_only:
                    await baselines(connection, rows, fresh_costs)


def _spread(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:5.2f} s"
    return f"{statistics.median(values):5.2f} s ({min(values):.2f}-{max(values):.2f})"


def _cost_line(label: str, rows: int, costs: list[PathCost]) -> str:
    wall = statistics.median(cost.wall_seconds for cost in costs)
    line = (
        f"{label:<16}: {rows / wall:12,.0f} calculation rows/s  ({wall:.2f} s wall)\n"
        f"{'':<18}CPU of the calculator {_spread([cost.client_cpu_seconds for cost in costs])}"
    )
    users = [cost.backend_user_seconds for cost in costs if cost.backend_user_seconds is not None]
    systems = [cost.backend_system_seconds for cost in costs if cost.backend_system_seconds is not None]
    if not users:
        return line + ", of its PostgreSQL backend n/a (server not local)"
    totals = [user + system for user, system in zip(users, systems, strict=True)]
    return (
        f"{line}, of its PostgreSQL backend {_spread(totals)}"
        f" [user {_spread(users)}, system {_spread(systems)}]"
    )


def report(
    events: list[SettlementPeriodEvent],
    models: list[MinerModel],
    rows: list[CalculationRow],
    fresh_costs: list[PathCost],
    revision_costs: list[PathCost],
) -> None:
    print(
        f"{len(events)} periods x {len(events[0].records)} records x {len(models)} models = {len(rows)} rows"
        f" (CPU: median (min-max) of {len(fresh_costs)} runs, each in a new database)"
    )
    print(_cost_line("real write path", len(rows), fresh_costs))
    print(_cost_line("revision of each", len(rows), revision_costs))


async def baselines(
    connection: asyncpg.Connection, rows: list[CalculationRow], fresh_costs: list[PathCost]
) -> None:
    path_rate = len(rows) / statistics.median(cost.wall_seconds for cost in fresh_costs)
    copy_seconds = await raw_copy(connection, rows)
    insert_seconds = await insert_per_row(connection, rows)
    copy_rate, insert_rate = (len(rows) / s for s in (copy_seconds, insert_seconds))
    print(f"raw COPY        : {copy_rate:12,.0f} rows/s  ({copy_seconds:.2f} s)")
    print(f"INSERT per row  : {insert_rate:12,.0f} rows/s  ({insert_seconds:.2f} s)")
    print(f"write path / raw COPY       = {path_rate / copy_rate:.3f}")
    print(f"write path / INSERT per row = {path_rate / insert_rate:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dsn", default=CalculatorSettings().database_url)
    parser.add_argument("--periods", type=int, default=200)
    parser.add_argument("--records", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=1, help="runs of the write path (medians reported)")
    parser.add_argument("--path-only", action="store_true", help="skip the raw COPY and INSERT baselines")
    parser.add_argument("--schema-sql", nargs="*", default=[], help="SQL run after the migrations")
    arguments = parser.parse_args()
    event_loop.run(
        bench(
            arguments.dsn,
            arguments.periods,
            arguments.records,
            arguments.repeat,
            arguments.path_only,
            arguments.schema_sql,
        )
    )


if __name__ == "__main__":
    main()
