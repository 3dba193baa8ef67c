"""Summary freshness during a month-long backfill: seconds from a period's calculation to its summaries.

Against the local stack (`windhash stack up`): a throw-away database and topic prefix are created, the
aggregator runs in this process, and for every settlement period of the month the facts are written the way
the calculator writes them, then a PeriodCalculatedEvent goes through real Kafka. Freshness is measured per
event as the aggregator's commit time minus the event's calculated_at (the same quantity as the
`windhash_aggregator_summary_freshness_seconds` histogram). At the end `summaries verify` must find no drift.

    .venv/bin/python bench/bench_summary_freshness.py [--month 2024-03] [--records 40] [--models 3]
"""

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

# Test support (windhash_testing) lives beside the tests, outside the installed packages.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from windhash_aggregator.handler import AppliedBatch
from windhash_aggregator.runner import run_aggregator
from windhash_aggregator.settings import AggregatorSettings
from windhash_common import event_loop
from windhash_common.logging_setup import configure_logging
from windhash_common.settlement_calendar import settlement_periods
from windhash_common.summaries.summary_grains import month_range
from windhash_common.summaries.verify import verify_summaries
from windhash_testing.synthetic_facts import (
    CalculationFact,
    RecordFact,
    ensure_miner_models,
    period_calculated_event,
    write_period_facts,
)


def synthetic_records(rng: random.Random, count: int, models: list[str]) -> tuple[RecordFact, ...]:
    records = []
    for n in range(count):
        volume = -Decimal(rng.randint(1_000, 60_000_000)).scaleb(-6)
        price = Decimal(rng.randint(-1_200_000, 200_000)).scaleb(-4)
        calculations = tuple(
            CalculationFact(model, -volume, Decimal(83_000_000_000_000 + rng.randint(0, 10**12)),
                            Decimal(rng.randint(1, 5_000_000)).scaleb(-8))
            for model in models
        )  # fmt: skip
        records.append(
            RecordFact(f"T_BENCH-{rng.randint(1, 120)}", 10_000 + n, -1, f"Lead {n % 9}", volume, price,
                       (volume * price).quantize(Decimal("0.0001")), calculations)
        )  # fmt: skip
    # One record per (unit, acceptance, pair): the unit is random, the acceptance id is unique per record.
    return tuple(records)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def backfill(
    settings: AggregatorSettings, month: date, records_per_period: int, models: list[str]
) -> None:
    freshness: list[float] = []
    batches = 0
    progressed = asyncio.Event()

    def on_applied(applied: AppliedBatch) -> None:
        nonlocal batches
        batches += 1
        committed_at = applied.committed_at or datetime.now(UTC)
        freshness.extend((committed_at - e.event.calculated_at).total_seconds() for e in applied.applied)
        progressed.set()

    connection = await asyncpg.connect(settings.database_url)
    stop = asyncio.Event()
    aggregator = asyncio.create_task(run_aggregator(settings, stop, on_applied))
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=5)
    await producer.start()
    rng = random.Random(20240301)
    published = 0
    started = time.perf_counter()
    try:
        await asyncio.sleep(2)  # the aggregator migrates the database first
        await ensure_miner_models(connection, models)
        for day in month_range(month).days():
            for period in settlement_periods(day):
                records = synthetic_records(rng, rng.randint(0, records_per_period), models)
                await write_period_facts(connection, day, period, records)
                event = period_calculated_event(day, period, records)
                await producer.send(settings.topics.period_calculated, event.model_dump_json().encode(),
                                    key=event.kafka_key)  # fmt: skip
                published += 1
        await producer.flush()
        backfill_seconds = time.perf_counter() - started
        async with asyncio.timeout(300):
            while len(freshness) < published:
                progressed.clear()
                await progressed.wait()
        drift = await verify_summaries(connection)
    finally:
        stop.set()
        await aggregator
        await producer.stop()
        await connection.close()

    rate = published / backfill_seconds
    print(f"periods published   {published} over {backfill_seconds:.1f} s ({rate:.0f}/s)")
    print(f"aggregator batches  {batches}")
    print(f"freshness p50       {statistics.median(freshness):.3f} s")
    print(f"freshness p95       {percentile(freshness, 0.95):.3f} s")
    print(f"freshness max       {max(freshness):.3f} s")
    print(f"summaries verify    {'no drift' if not drift else f'{len(drift)} drifted rows'}")


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--month", default="2024-03", help="YYYY-MM to backfill (default has the 46-period day)"
    )
    parser.add_argument("--records", type=int, default=40, help="Most curtailment records per period")
    parser.add_argument("--models", type=int, default=3, help="Miner models per record")
    arguments = parser.parse_args()

    base = AggregatorSettings()
    configure_logging("WARNING")
    name = f"windhash_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(base.database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    settings = base.model_copy(
        update={
            "database_url": urlsplit(base.database_url)._replace(path=f"/{name}").geturl(),
            "topic_prefix": f"bench{uuid.uuid4().hex[:10]}",
            "aggregator_group": f"bench-aggregator-{name}",
        }
    )
    try:
        models = [f"bench-model-{n}" for n in range(arguments.models)]
        await backfill(settings, date.fromisoformat(f"{arguments.month}-01"), arguments.records, models)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        kafka_admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
        await kafka_admin.start()
        try:
            await kafka_admin.delete_topics(list(settings.topics.all()))
        finally:
            await kafka_admin.close()


if __name__ == "__main__":
    event_loop.run(main())
