"""A `windhash ingest range` stopped mid-day leaves ingestion_progress consistent with what it published.

Stopped (SIGTERM, as `kill` and service managers stop a process): each publish already under way finishes
and its progress is written before the process exits, so progress says ok for exactly the periods whose
event is in the topic, with the same content hash. Killed (SIGKILL: nothing can run): progress never claims
more than was published, and running the command again completes the range with progress and topic equal.
"""

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from windhash_common.events import SettlementPeriodEvent
from windhash_common.settlement_calendar import dates_between, settlement_periods
from windhash_common.topics import Topics
from windhash_elexon_sim import ElexonSimProcess
from windhash_stack import StackEndpoints
from windhash_stack.ports import free_port

pytestmark = pytest.mark.integration

WINDHASH = str(Path(sys.executable).with_name("windhash"))
FIRST, LAST = date(2024, 2, 5), date(2024, 2, 8)
Key = tuple[date, int]


@pytest.fixture
async def slow_sim() -> AsyncIterator[str]:
    """The synthetic server in its own process, 40 ms a request, so that a run is stopped mid-day."""
    async with ElexonSimProcess(free_port(), latency_ms=40) as sim:
        yield sim.base_url


async def _published(bootstrap: str, env: dict[str, str]) -> dict[Key, str]:
    """The content hash of the latest event of each period in the settlement-period topic."""
    topic = Topics(prefix=env["WINDHASH_TOPIC_PREFIX"]).settlement_periods
    partitions = [TopicPartition(topic, p) for p in range(int(env["WINDHASH_TOPIC_PARTITIONS"]))]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        latest: dict[Key, str] = {}
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            for messages in (await consumer.getmany(timeout_ms=1000)).values():
                for message in messages:
                    event = SettlementPeriodEvent.model_validate_json(message.value or b"")
                    latest[(event.settlement_date, event.settlement_period)] = event.content_hash
        return latest
    finally:
        await consumer.stop()


async def _progress_ok(dsn: str) -> dict[Key, str]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT settlement_date, settlement_period, content_hash FROM ingestion_progress"
            " WHERE status = 'ok'"
        )
    finally:
        await connection.close()
    return {(row[0], row[1]): row[2] for row in rows}


async def _start_range(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        WINDHASH, "ingest", "range", FIRST.isoformat(), LAST.isoformat(),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _wait_for_some_progress(dsn: str, at_least: int) -> None:
    for _ in range(600):
        if len(await _progress_ok(dsn)) >= at_least:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the run made no progress")


ALL_PERIODS = {(day, period) for day in dates_between(FIRST, LAST) for period in settlement_periods(day)}


async def test_a_stopped_run_records_exactly_what_it_published(
    stack: StackEndpoints, service_env: dict[str, str], slow_sim: str
) -> None:
    env = {**os.environ, "WINDHASH_ELEXON_BASE_URL": slow_sim}
    run = await _start_range(env)
    await _wait_for_some_progress(service_env["WINDHASH_DATABASE_URL"], 30)
    run.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(run.communicate(), 60)
    published = await _published(stack.kafka_bootstrap, service_env)
    ok = await _progress_ok(service_env["WINDHASH_DATABASE_URL"])
    assert 0 < len(published) < len(ALL_PERIODS), "stopped mid-range"
    assert ok == published, f"{len(published)} periods published, {len(ok)} recorded ok"
    assert run.returncode == 143, stderr.decode()
    assert b"run the same command again" in stderr


async def test_a_killed_run_never_claims_more_than_it_published_and_a_rerun_completes(
    stack: StackEndpoints, service_env: dict[str, str], slow_sim: str
) -> None:
    env = {**os.environ, "WINDHASH_ELEXON_BASE_URL": slow_sim}
    run = await _start_range(env)
    await _wait_for_some_progress(service_env["WINDHASH_DATABASE_URL"], 30)
    run.kill()
    await run.wait()
    published = await _published(stack.kafka_bootstrap, service_env)
    ok = await _progress_ok(service_env["WINDHASH_DATABASE_URL"])
    assert ok.items() <= published.items(), "an ok row without its event"
    again = await _start_range(env)
    _, stderr = await asyncio.wait_for(again.communicate(), 300)
    assert again.returncode == 0, stderr.decode()
    published = await _published(stack.kafka_bootstrap, service_env)
    assert await _progress_ok(service_env["WINDHASH_DATABASE_URL"]) == published
    assert set(published) == ALL_PERIODS
