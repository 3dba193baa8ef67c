"""Crash test: the calculator, run as the `windhash calculator` process, is SIGKILLed mid-batch, after its
database commit but before its Kafka offset commit, and during the outbox relay; after a clean restart its
tables equal, row for row, those of an undisturbed run over the same messages (in a second database)."""

import asyncio
import os
import signal
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from windhash_calculator.settings import CalculatorSettings
from windhash_common.difficulty_store import open_difficulty_store
from windhash_common.events import CurtailmentRecord, PeriodCalculatedEvent, SettlementPeriodEvent
from windhash_common.money import cashflow_to_farm_gbp
from windhash_stack import StackEndpoints

pytestmark = pytest.mark.integration

DAY, PENDING_DAY = date(2024, 4, 20), date(2024, 5, 7)  # PENDING_DAY has no difficulty
FETCHED = datetime(2024, 6, 2, 12, tzinfo=UTC)
FACT_TABLES = {
    "settlement_periods": "SELECT settlement_date, settlement_period, period_start_utc, content_hash,"
    " fetched_at, record_count, status, difficulty, synthetic FROM settlement_periods ORDER BY 1, 2",
    "curtailment_records": "SELECT * FROM curtailment_records ORDER BY 1, 2, 3, 4, 5",
    "bitcoin_calculations": "SELECT * FROM bitcoin_calculations ORDER BY 1, 2, 3, 4, 5, 6",
    "consumer_positions": "SELECT topic, partition, next_offset FROM consumer_positions ORDER BY 1, 2",
}


def _record(acceptance_id: int, volume: str) -> CurtailmentRecord:
    return CurtailmentRecord(
        bm_unit=f"T_UNIT-{acceptance_id % 4}",
        acceptance_id=acceptance_id,
        bid_offer_pair_id=-1,
        sequence_number=1,
        created_at=FETCHED,
        volume_mwh=Decimal(volume),
        original_price_gbp_per_mwh=Decimal("-61.2"),
        final_price_gbp_per_mwh=None,
        cashflow_gbp=cashflow_to_farm_gbp(Decimal(volume), Decimal("-61.2")),
        so_flag=True,
        cadl_flag=None,
    )


def _event(day: date, period: int, volumes: list[str], hours_later: int = 0) -> tuple[bytes, bytes]:
    records = tuple(_record(period * 100 + index, volume) for index, volume in enumerate(volumes))
    fetched = FETCHED + timedelta(hours=hours_later)
    event = SettlementPeriodEvent.build(day, period, records, fetched, synthetic=True)
    return event.kafka_key, event.model_dump_json().encode()


def scenario() -> list[tuple[bytes, bytes]]:
    """Periods with 0 to 3 records, revisions, a stale snapshot, a duplicate, a malformed message and periods
    whose difficulty is missing."""
    messages = [
        _event(DAY, period, [f"-{period}.{index}5" for index in range(period % 4)]) for period in range(1, 15)
    ]
    messages += [_event(PENDING_DAY, period, ["-2.5"]) for period in range(1, 7)]
    messages += [_event(DAY, period, ["-99.125"], hours_later=1) for period in (2, 5, 9)]
    messages.append(_event(DAY, 3, ["-1000"], hours_later=-1))  # stale: ignored
    messages.append(messages[6])  # a duplicate delivery
    messages.append((b"2024-04-20/12", b"\x00not json"))
    messages.append(_event(DAY, 2, ["-0.000001", "-3"], hours_later=2))
    return messages


async def snapshot(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    connection = await asyncpg.connect(dsn)
    try:
        return {
            table: [tuple(row) for row in await connection.fetch(sql)] for table, sql in FACT_TABLES.items()
        }
    finally:
        await connection.close()


async def outbox_agrees_with_periods(dsn: str) -> None:
    """Everything published, one dead letter, and each period's last event describes its stored state."""
    connection = await asyncpg.connect(dsn)
    try:
        assert await connection.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
        assert await connection.fetchval("SELECT count(*) FROM outbox WHERE topic LIKE '%dead-letter%'") == 1
        last: dict[tuple[date, int], PeriodCalculatedEvent] = {}
        for row in await connection.fetch(
            "SELECT payload::text FROM outbox WHERE topic LIKE '%period-calculated%' ORDER BY id"
        ):
            event = PeriodCalculatedEvent.model_validate_json(row[0])
            last[(event.settlement_date, event.settlement_period)] = event
        stored = await connection.fetch(
            "SELECT settlement_date, settlement_period, content_hash, status FROM settlement_periods"
        )
        assert {(r[0], r[1]): (r[2], r[3]) for r in stored} == {
            key: (event.content_hash, event.status) for key, event in last.items()
        }
    finally:
        await connection.close()


class CalculatorProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self._env, self._log = env, log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, **extra: str) -> None:
        windhash = Path(sys.executable).with_name("windhash")
        with self._log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(windhash), "calculator", env={**self._env, **extra}, stdout=log, stderr=log
            )

    async def wait(self, seconds: float = 120) -> int:
        assert self.process is not None
        try:
            return await asyncio.wait_for(self.process.wait(), timeout=seconds)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"calculator did not stop; log:\n{self._log.read_text()[-4000:]}") from None

    async def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await self.wait()


async def caught_up(dsn: str, group_topic: str, expected: dict[int, int], process: CalculatorProcess) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for _ in range(600):
            assert process.process is not None and process.process.returncode is None, "calculator died"
            positions = {
                row[0]: row[1]
                for row in await connection.fetch(
                    "SELECT partition, next_offset FROM consumer_positions WHERE topic = $1", group_topic
                )
            }
            backlog = await connection.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            if positions == expected and backlog == 0:
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"calculator did not catch up: {positions} != {expected}")
    finally:
        await connection.close()


async def test_sigkill_anywhere_converges_on_the_undisturbed_result(
    stack: StackEndpoints, pg_dsn: str, reference_dsn: str, service_env: dict[str, str], tmp_path: Path
) -> None:
    settings = CalculatorSettings()
    async with open_difficulty_store(settings) as store:
        await store.ensure_table()
        await store.add_difficulties(
            {DAY - timedelta(days=1): Decimal(86388558925171), DAY: Decimal(86388558925171)}, "test"
        )
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all")
    await producer.start()
    expected: dict[int, int] = {}
    try:
        for key, value in scenario():
            sent = await producer.send_and_wait(settings.topics.settlement_periods, value, key=key)
            expected[sent.partition] = max(expected.get(sent.partition, 0), sent.offset + 1)
    finally:
        await producer.stop()

    env = {
        **os.environ,
        **service_env,
        "WINDHASH_METRICS_PORT": "0",
        "WINDHASH_CALCULATOR_BATCH_MESSAGES": "3",
        "WINDHASH_CALCULATOR_BATCH_WAIT_SECONDS": "0.1",
        "WINDHASH_CALCULATOR_SESSION_TIMEOUT_SECONDS": "6",
        "WINDHASH_LOG_LEVEL": "WARNING",
    }
    topic = settings.topics.settlement_periods

    undisturbed = CalculatorProcess(
        {
            **env,
            "WINDHASH_DATABASE_URL": reference_dsn,
            "WINDHASH_CALCULATOR_GROUP": f"reference-{uuid.uuid4().hex}",
        },
        tmp_path / "reference.log",
    )
    await undisturbed.start()
    await caught_up(reference_dsn, topic, expected, undisturbed)
    assert await undisturbed.terminate() == 0

    crashing = CalculatorProcess(env, tmp_path / "crashing.log")
    for point in ("mid_batch:2", "after_db_commit:2", "during_relay:1"):
        await crashing.start(WINDHASH_CALCULATOR_CRASH_AT=point)
        assert await crashing.wait() == -signal.SIGKILL, point
    await crashing.start()
    await caught_up(pg_dsn, topic, expected, crashing)
    assert await crashing.terminate() == 0

    reference, recovered = await snapshot(reference_dsn), await snapshot(pg_dsn)
    assert len(reference["bitcoin_calculations"]) > 0
    assert {row[6] for row in reference["settlement_periods"]} == {"calculated", "pending_difficulty"}
    for table in FACT_TABLES:
        assert recovered[table] == reference[table], table
    await outbox_agrees_with_periods(reference_dsn)
    await outbox_agrees_with_periods(pg_dsn)
