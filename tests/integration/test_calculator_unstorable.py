"""A period whose figures cannot be stored, against the real Kafka, PostgreSQL and DynamoDB Local: the
calculator dead-letters it with the reason, records it in `unstorable_periods`, calculates the periods after
it and keeps running (on main before this it crash-looped on the BTC overflowing its column).

The absurd difficulty is written to DynamoDB directly, past `windhash difficulty load`'s bounds, as a hand
edit or a buggy writer would."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import REGISTRY
from windhash_calculator.runner import run_calculator
from windhash_calculator.settings import CalculatorSettings
from windhash_common.aws_clients import dynamodb_client_options, dynamodb_session
from windhash_common.difficulty_store import open_difficulty_store
from windhash_common.events import DeadLetter, SettlementPeriodEvent
from windhash_reconciler.analysis import analyze
from windhash_reconciler.settings import ReconcilerSettings
from windhash_testing.api_status import api_status
from windhash_testing.curtailment_samples import period_snapshot, wind_record

pytestmark = pytest.mark.integration

FETCHED = datetime(2024, 6, 2, 12, tzinfo=UTC)
GOOD_DAY = date(2024, 4, 19)
ABSURD_DAY = date(2024, 4, 18)
GOOD_DIFFICULTY = Decimal(86388558925171)


def event(day: date, period: int, acceptance_id: int, volume: str = "-12.5") -> SettlementPeriodEvent:
    return period_snapshot(
        day, period, FETCHED, wind_record(acceptance_id, volume, "-45.5", created_at=FETCHED)
    )


async def eventually(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 90) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def put_difficulty_unchecked(settings: CalculatorSettings, day: date, value: str) -> None:
    """Write a difficulty item straight into the table, as nothing in windhash would."""
    session = dynamodb_session(settings.aws_region, settings.dynamodb_endpoint)
    async with session.client("dynamodb", **dynamodb_client_options(settings.dynamodb_endpoint)) as client:
        item = {"date": {"S": day.isoformat()}, "difficulty": {"N": value}, "source": {"S": "hand edit"}}
        await client.put_item(TableName=settings.difficulty_table, Item=item)


@pytest.fixture
async def settings(service_env: dict[str, str]) -> CalculatorSettings:
    settings = CalculatorSettings(
        metrics_port=0, calculator_batch_wait_seconds=0.1, calculator_pending_sweep_seconds=3600
    )
    async with open_difficulty_store(settings) as store:
        await store.ensure_table()
        await store.add_difficulties({GOOD_DAY: GOOD_DIFFICULTY}, source="test")
    await put_difficulty_unchecked(settings, ABSURD_DAY, "0.5")
    return settings


@pytest.fixture
async def calculator(settings: CalculatorSettings) -> AsyncIterator[asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(run_calculator(settings, stop))
    yield task
    stop.set()
    await asyncio.wait_for(task, timeout=60)


@pytest.fixture
async def producer(settings: CalculatorSettings) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    yield producer
    await producer.stop()


async def dead_letters(settings: CalculatorSettings, count: int) -> list[DeadLetter]:
    consumer = AIOKafkaConsumer(
        settings.topics.dead_letter, bootstrap_servers=settings.kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    letters: list[DeadLetter] = []
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while len(letters) < count and asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            letters += [
                DeadLetter.model_validate_json(message.value or b"")
                for messages in batches.values()
                for message in messages
            ]
    finally:
        await consumer.stop()
    return letters


async def test_an_unstorable_period_is_dead_lettered_and_the_calculator_goes_on(
    settings: CalculatorSettings, calculator: asyncio.Task[None], producer: AIOKafkaProducer, pg_dsn: str
) -> None:
    topic = settings.topics.settlement_periods
    # Period 20 (09:30 BST) starts on the same UTC day, whose difficulty it is calculated with.
    absurd = event(ABSURD_DAY, 20, 1)
    sent = await producer.send_and_wait(topic, absurd.model_dump_json().encode(), key=absurd.kafka_key)
    following = [event(GOOD_DAY, period, 10 + period) for period in (20, 21, 22)]
    for item in following:
        await producer.send_and_wait(topic, item.model_dump_json().encode(), key=item.kafka_key)
    db = await asyncpg.connect(pg_dsn)
    try:

        async def following_calculated() -> bool:
            calculated = await db.fetchval(
                "SELECT count(*) FROM settlement_periods WHERE settlement_date = $1 AND status = $2",
                GOOD_DAY,
                "calculated",
            )
            return bool(calculated == 3)

        await eventually(following_calculated, "the periods after the unstorable one")
        refused = await db.fetchrow("SELECT * FROM unstorable_periods")
        assert refused is not None
        assert (refused["settlement_date"], refused["settlement_period"]) == (ABSURD_DAY, 20)
        assert refused["content_hash"] == absurd.content_hash
        assert "would mine" in refused["reason"] and "difficulty 5E-1" in refused["reason"]
        assert (
            await db.fetchval(
                "SELECT count(*) FROM settlement_periods WHERE settlement_date = $1", ABSURD_DAY
            )
            == 0
        )
        assert await db.fetchval(
            "SELECT count(*) FROM bitcoin_calculations WHERE settlement_date = $1", GOOD_DAY
        ) == 3 * await db.fetchval("SELECT count(*) FROM miner_models WHERE active")
        position = await db.fetchval(
            "SELECT next_offset FROM consumer_positions WHERE topic = $1 AND partition = $2",
            topic,
            sent.partition,
        )
        assert position > sent.offset
    finally:
        await db.close()
    [letter] = await dead_letters(settings, 1)
    assert letter.reason.startswith("unstorable: ") and "would mine" in letter.reason
    assert (letter.settlement_date, letter.settlement_period) == (ABSURD_DAY, 20)
    assert (letter.source_topic, letter.source_partition, letter.source_offset) == (
        topic,
        sent.partition,
        sent.offset,
    )
    assert REGISTRY.get_sample_value("windhash_calculator_periods_unstorable") == 1
    assert not calculator.done(), "the calculator must keep running"
    # `windhash reconcile analyze` names the period and the reason.
    analysis = await analyze(ReconcilerSettings(), ABSURD_DAY, ABSURD_DAY, now=FETCHED)
    [day] = analysis.worst
    [gap] = [gap for gap in day.gaps if gap.kind == "dead-lettered event"]
    assert gap.periods == [20] and "calculator: unstorable: " in gap.detail
    # /api/v1/status counts it failed, with the calculator's reason.
    body = await api_status(pg_dsn)
    assert (body["failed_periods_count"], body["unstorable_periods_count"]) == (1, 1)
    [failed] = body["failed_periods"]
    assert (failed["settlement_date"], failed["settlement_period"], failed["stage"]) == (
        "2024-04-18",
        20,
        "calculation",
    )
    assert "would mine" in failed["error"]


async def test_a_pending_period_whose_difficulty_arrives_absurd_stays_pending_and_is_recorded(
    settings: CalculatorSettings, pg_dsn: str
) -> None:
    from windhash_calculator.handler import apply_messages
    from windhash_calculator.pending_periods import complete_pending_periods
    from windhash_common.consumer_runtime.messages import ConsumedMessage

    waiting_day = date(2024, 5, 7)
    pending = event(waiting_day, 20, 1)
    message = ConsumedMessage(
        settings.topics.settlement_periods, 0, 0, pending.kafka_key, pending.model_dump_json().encode()
    )
    pool = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=2)
    assert pool is not None
    try:
        async with pool.acquire() as connection:
            await apply_messages(connection, [message], "g", settings.topics, {}, settings.halvings())
        await put_difficulty_unchecked(settings, waiting_day, "0.0001")
        async with open_difficulty_store(settings) as store:
            outcome = await complete_pending_periods(pool, store, settings.topics, settings.halvings())
        assert (outcome.completed, outcome.still_pending, outcome.unstorable) == ([], 1, 1)
        assert list(outcome.refused) == [(waiting_day, 20)]
        row = await pool.fetchrow("SELECT settlement_date, settlement_period, reason FROM unstorable_periods")
        assert (row["settlement_date"], row["settlement_period"]) == (waiting_day, 20)
        assert "would mine" in row["reason"]
        assert await pool.fetchval("SELECT count(*) FROM bitcoin_calculations") == 0
    finally:
        await pool.close()
