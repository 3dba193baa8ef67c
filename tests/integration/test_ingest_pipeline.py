"""The ingestor against the synthetic Elexon server, real Kafka and real PostgreSQL: whole days published
exactly, every injected fault ends in a retried success or a recorded failure, revisions republished."""

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from windhash_common.events import DeadLetter, SettlementPeriodEvent
from windhash_common.settlement_calendar import settlement_periods
from windhash_elexon_sim import ElexonSimServer, FaultRule, settlement_stack
from windhash_elexon_sim.units import wind_unit_ids
from windhash_ingestor.backfill import ingest_range
from windhash_ingestor.follow import follow_cycle
from windhash_ingestor.runtime import open_runtime
from windhash_ingestor.settings import IngestorSettings

pytestmark = pytest.mark.integration

WINDHASH = str(Path(sys.executable).with_name("windhash"))


@pytest.fixture
def sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer() as server:
        yield server


def settings_for(sim: ElexonSimServer, **changes: object) -> IngestorSettings:
    quick_retries: dict[str, object] = {
        "elexon_base_url": sim.base_url,
        "elexon_max_retries": 3,
        "elexon_backoff_initial_seconds": 0.05,
        "elexon_backoff_max_seconds": 0.2,
        "elexon_read_timeout_seconds": 5.0,
    }
    quick_retries.update(changes)
    return IngestorSettings.model_validate(quick_retries)


def expected(day: date, period: int, revision: int = 0) -> tuple[int, Decimal]:
    """Records and MWh straight from the generator's rows, independently of the ingestor's rule."""
    wind = wind_unit_ids()
    rows = [
        row
        for row in settlement_stack(day, period, "bid", revision)
        if row["id"] in wind and row["soFlag"] is True and row["volume"] < 0
    ]
    return len(rows), sum((-Decimal(repr(row["volume"])) for row in rows), Decimal(0))


async def read_topic(bootstrap: str, topic: str) -> list[tuple[bytes, bytes]]:
    """Every (key, value) on the topic, in offset order per partition."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(int(os.environ["WINDHASH_TOPIC_PARTITIONS"]))]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        messages: list[tuple[bytes, bytes]] = []
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                messages.extend((message.key, message.value) for message in batch)
        return messages
    finally:
        await consumer.stop()


async def period_events(settings: IngestorSettings) -> dict[tuple[date, int], list[SettlementPeriodEvent]]:
    events: dict[tuple[date, int], list[SettlementPeriodEvent]] = {}
    for key, value in await read_topic(settings.kafka_bootstrap, settings.topics.settlement_periods):
        event = SettlementPeriodEvent.model_validate_json(value)
        assert key == event.kafka_key
        events.setdefault((event.settlement_date, event.settlement_period), []).append(event)
    return events


async def progress_rows(dsn: str) -> dict[int, asyncpg.Record]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT * FROM ingestion_progress")
    finally:
        await connection.close()
    return {row["settlement_period"]: row for row in rows}


@pytest.mark.parametrize(
    ("day", "periods"), [(date(2024, 1, 5), 48), (date(2024, 3, 31), 46), (date(2024, 10, 27), 50)]
)
async def test_a_whole_day_is_published_with_exact_records_and_mwh(
    service_env: dict[str, str], sim: ElexonSimServer, day: date, periods: int
) -> None:
    settings = settings_for(sim)
    report = await ingest_range(settings, day, day)
    assert report.succeeded
    assert (report.days[0].periods, report.days[0].published) == (periods, periods)

    events = await period_events(settings)
    assert sorted(events) == [(day, period) for period in range(1, periods + 1)]
    total_records, total_mwh = 0, Decimal(0)
    for period in settlement_periods(day):
        (event,) = events[(day, period)]
        count, energy = expected(day, period)
        assert len(event.records) == count
        assert sum((-record.volume_mwh for record in event.records), Decimal(0)) == energy
        assert event.synthetic
        total_records, total_mwh = total_records + count, total_mwh + energy
    assert (report.total.records, report.total.energy_mwh) == (total_records, total_mwh)
    assert total_records > 0

    progress = await progress_rows(service_env["WINDHASH_DATABASE_URL"])
    assert len(progress) == periods and all(row["status"] == "ok" for row in progress.values())
    assert sum(row["record_count"] for row in progress.values()) == total_records
    assert sum(row["energy_mwh"] for row in progress.values()) == total_mwh
    assert all(row["content_hash"] == events[(day, p)][0].content_hash for p, row in progress.items())


async def test_every_fault_ends_in_a_retried_success_or_a_visible_failure(
    service_env: dict[str, str], sim: ElexonSimServer
) -> None:
    day = date(2024, 1, 5)
    faults = [
        FaultRule(kind="status", status=429, retry_after=1, date=day, period=2, times=2),
        FaultRule(kind="status", status=500, date=day, period=3, times=2),
        FaultRule(kind="slow", delay_s=3.0, date=day, period=4, times=1),
        FaultRule(kind="status", status=503, date=day, period=5, times=None),
        FaultRule(kind="malformed", date=day, period=6, times=1),
        FaultRule(kind="null_field", field="acceptanceId", date=day, period=7, times=1),
        FaultRule(kind="missing_field", field="volume", date=day, period=8, times=1),
    ]
    for rule in faults:
        sim.add_fault(rule)
    settings = settings_for(sim, elexon_read_timeout_seconds=1.0)
    report = await ingest_range(settings, day, day)

    assert {failure.settlement_period for failure in report.failures} == {5, 6, 7, 8}
    assert report.days[0].published == 44
    events = await period_events(settings)
    assert set(events) == {(day, period) for period in range(1, 49)} - {(day, p) for p in (5, 6, 7, 8)}
    for period in (2, 3, 4):  # retried to success, with the right content
        assert len(events[(day, period)][0].records) == expected(day, period)[0]
    progress = await progress_rows(service_env["WINDHASH_DATABASE_URL"])
    assert "HTTP 503" in progress[5]["error"]
    for period in (5, 6, 7, 8):
        assert progress[period]["status"] == "failed" and progress[period]["record_count"] is None

    letters = [
        DeadLetter.model_validate_json(value)
        for _, value in await read_topic(settings.kafka_bootstrap, settings.topics.dead_letter)
    ]
    reasons = {letter.settlement_period: letter.reason for letter in letters}
    assert set(reasons) == {6, 7, 8}
    assert reasons[6].startswith("invalid_payload: malformed JSON")
    assert "acceptanceId" in reasons[7] and "volume" in reasons[8]
    assert all(letter.service == "ingestor" and letter.payload for letter in letters)

    # The CLI says so: a permanent failure makes it exit non-zero ...
    env = {**os.environ, "WINDHASH_ELEXON_BASE_URL": sim.base_url, "WINDHASH_ELEXON_MAX_RETRIES": "1",
           "WINDHASH_ELEXON_BACKOFF_INITIAL_SECONDS": "0.05", "COLUMNS": "200"}  # fmt: skip
    failing = await asyncio.to_thread(run_cli, ["ingest", "date", "2024-01-05"], env)
    assert failing.returncode == 1 and "2024-01-05 P5" in failing.stderr
    # ... and once the fault is gone, the next run retries exactly the failed periods and succeeds.
    sim.clear_faults()
    passing = await asyncio.to_thread(run_cli, ["ingest", "date", "2024-01-05"], env)
    assert passing.returncode == 0, passing.stderr
    events = await period_events(settings)
    for period in (5, 6, 7, 8):
        (event,) = events[(day, period)]
        assert len(event.records) == expected(day, period)[0]
    progress = await progress_rows(service_env["WINDHASH_DATABASE_URL"])
    assert all(row["status"] == "ok" for row in progress.values()) and len(progress) == 48


async def test_a_revised_period_is_republished_with_a_new_hash_and_nothing_else_is(
    service_env: dict[str, str], sim: ElexonSimServer
) -> None:
    day = date(2024, 1, 5)
    settings = settings_for(sim)
    assert (await ingest_range(settings, day, day)).succeeded
    sim.revise(day, 5)
    # Early on the next day (no period of it has ended): follow mode re-checks today and yesterday.
    now = datetime(2024, 1, 6, 0, 10, tzinfo=UTC)
    async with open_runtime(settings) as runtime:
        counts = await follow_cycle(runtime, now, check_revisions=False)
    assert counts == {"published": 1, "unchanged": 47, "wind_output_days_failed": 0}
    events = await period_events(settings)
    old, new = events[(day, 5)]
    assert old.content_hash != new.content_hash
    assert len(new.records) == expected(day, 5, revision=1)[0]
    assert all(len(events[(day, period)]) == 1 for period in range(1, 49) if period != 5)
    progress = await progress_rows(service_env["WINDHASH_DATABASE_URL"])
    assert progress[5]["content_hash"] == new.content_hash


def run_cli(arguments: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [WINDHASH, *arguments], env=env, capture_output=True, text=True, timeout=600, check=False
    )
