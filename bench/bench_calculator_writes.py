"""Benchmark of the calculator's write path against the two ends of the scale, in one run on one database.

    real write path   apply_batch(): records via staging + COPY, calculations via COPY, periods, positions and
                      outbox, one transaction per batch of 200 periods (what the service does)
    raw COPY          the same calculation rows COPY'd straight into bitcoin_calculations
    INSERT per row    the same rows, one INSERT statement (one round trip) each, in one transaction

Prints calculation rows per second for each and the ratios. Usage:
    python bench/bench_calculator_writes.py [--dsn postgresql://...] [--periods 200] [--records 30]
The DSN names any database on the server (default: WINDHASH_DATABASE_URL); the benchmark works in a scratch
database it creates and drops.
"""

import argparse
import asyncio
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import asyncpg
from windhash_calculator.calculation_rows import CALCULATION_COLUMNS, CalculationRow, calculation_rows
from windhash_calculator.calculation_rows import event_record_energies as record_energies
from windhash_calculator.crash_points import CrashPoints
from windhash_calculator.message_validation import ConsumedMessage
from windhash_calculator.period_writer import apply_batch, decode_batch
from windhash_calculator.settings import CalculatorSettings
from windhash_common.bitcoin import MINED_HALVINGS
from windhash_common.db import migrate_database
from windhash_common.events import CurtailmentRecord, SettlementPeriodEvent
from windhash_common.miner_models import active_miner_models
from windhash_common.settlement_calendar import settlement_periods
from windhash_common.topics import Topics

BATCH = 200
FIRST_DAY = date(2024, 1, 1)
DIFFICULTY = Decimal(72006146478567)


def synthetic_events(periods: int, records: int) -> list[SettlementPeriodEvent]:
    fetched = datetime(2024, 6, 1, tzinfo=UTC)
    events: list[SettlementPeriodEvent] = []
    day = FIRST_DAY
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


async def real_write_path(connection: asyncpg.Connection, events: list[SettlementPeriodEvent]) -> float:
    messages = [
        ConsumedMessage("bench", 0, offset, event.kafka_key, event.model_dump_json().encode())
        for offset, event in enumerate(events)
    ]
    difficulties = {day: DIFFICULTY for day in {e.period_start_utc.astimezone(UTC).date() for e in events}}
    started = time.perf_counter()
    for start in range(0, len(messages), BATCH):
        # Decoding is part of the path the service runs per batch, so it is timed too.
        decoded = decode_batch(messages[start : start + BATCH], 10_000_000)
        await apply_batch(
            connection, decoded, "bench", Topics("bench"), difficulties, MINED_HALVINGS, CrashPoints(None)
        )
    return time.perf_counter() - started


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


async def bench(server_dsn: str, periods: int, records: int) -> None:
    name = f"windhash_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = urlsplit(server_dsn)._replace(path=f"/{name}").geturl()
    try:
        await migrate_database(dsn)
        connection = await asyncpg.connect(dsn)
        try:
            await report(connection, synthetic_events(periods, records))
        finally:
            await connection.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def report(connection: asyncpg.Connection, events: list[SettlementPeriodEvent]) -> None:
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
    path_seconds = await real_write_path(connection, events)
    assert await connection.fetchval("SELECT count(*) FROM bitcoin_calculations") == len(rows)
    copy_seconds = await raw_copy(connection, rows)
    insert_seconds = await insert_per_row(connection, rows)
    path_rate, copy_rate, insert_rate = (len(rows) / s for s in (path_seconds, copy_seconds, insert_seconds))
    print(
        f"{len(events)} periods x {len(events[0].records)} records x {len(models)} models = {len(rows)} rows"
    )
    print(f"real write path : {path_rate:12,.0f} calculation rows/s  ({path_seconds:.2f} s)")
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
    arguments = parser.parse_args()
    asyncio.run(bench(arguments.dsn, arguments.periods, arguments.records))


if __name__ == "__main__":
    main()
