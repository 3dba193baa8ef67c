"""The calculator against the real Kafka, PostgreSQL and DynamoDB Local, run in process.

Expected BTC is recomputed here from the formula with exact fractions, independently of
windhash_common.bitcoin.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from windhash_calculator.pending_periods import complete_pending_periods
from windhash_calculator.runner import run_calculator
from windhash_calculator.settings import CalculatorSettings
from windhash_common.difficulty_store import open_difficulty_store
from windhash_common.events import CurtailmentRecord, DeadLetter, PeriodCalculatedEvent, SettlementPeriodEvent
from windhash_testing.curtailment_samples import period_snapshot, wind_record

pytestmark = pytest.mark.integration

FETCHED = datetime(2024, 6, 2, 12, tzinfo=UTC)
DIFFICULTY = {date(2024, 4, 19): Decimal(86388558925171), date(2024, 4, 20): Decimal(86388558925171)}
HALVING_840000 = datetime(2024, 4, 20, 0, 9, 27, tzinfo=UTC)
PENDING_DAY = date(2024, 5, 7)  # no difficulty loaded for it until the test says so


def record(bm_unit: str, acceptance_id: int, volume: str, price: str = "-45.5") -> CurtailmentRecord:
    return wind_record(acceptance_id, volume, price, bm_unit=bm_unit, created_at=FETCHED)


def event(
    day: date, period: int, *records: CurtailmentRecord, fetched: datetime = FETCHED
) -> SettlementPeriodEvent:
    return period_snapshot(day, period, fetched, *records)


def expected_btc(
    energy: Decimal, hashrate: Decimal, power: Decimal, difficulty: Decimal, start: datetime
) -> Decimal:
    reward = Fraction(3125, 1000) if start >= HALVING_840000 else Fraction(625, 100)
    exact = (
        Fraction(energy) * 3_600_000_000 / Fraction(power) * Fraction(hashrate) * 10**12
        / (Fraction(difficulty) * 2**32) * reward
    )  # fmt: skip
    with localcontext() as context:
        context.prec = 60
        value = Decimal(exact.numerator) / Decimal(exact.denominator)
    return value.quantize(Decimal("0.00000001"), rounding=ROUND_HALF_EVEN)


async def eventually(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 90) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


@pytest.fixture
async def settings(service_env: dict[str, str]) -> CalculatorSettings:
    settings = CalculatorSettings(
        metrics_port=0, calculator_batch_wait_seconds=0.1, calculator_pending_sweep_seconds=3600
    )
    async with open_difficulty_store(settings) as store:
        await store.ensure_table()
        await store.add_difficulties(DIFFICULTY, source="test")
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


@pytest.fixture
async def db(pg_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(pg_dsn)
    yield connection
    await connection.close()


async def publish(producer: AIOKafkaProducer, topic: str, *events: SettlementPeriodEvent) -> None:
    for item in events:
        await producer.send_and_wait(topic, item.model_dump_json().encode(), key=item.kafka_key)


async def period_row(db: asyncpg.Connection, day: date, period: int) -> asyncpg.Record | None:
    return await db.fetchrow(
        "SELECT * FROM settlement_periods WHERE settlement_date = $1 AND settlement_period = $2", day, period
    )


async def read_topic(bootstrap: str, topic: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    values: list[bytes] = []
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while len(values) < count and asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            values += [message.value for messages in batches.values() for message in messages]
    finally:
        await consumer.stop()
    return values


async def test_events_become_records_and_calculations(
    settings: CalculatorSettings,
    calculator: asyncio.Task[None],
    producer: AIOKafkaProducer,
    db: asyncpg.Connection,
) -> None:
    # 2024-04-20 is in BST: period 3 starts 00:00 UTC (6.25 BTC), period 4 at 00:30 UTC (3.125 BTC), and
    # period 1 starts 2024-04-19 23:00 UTC, so it uses 2024-04-19's difficulty.
    day = date(2024, 4, 20)
    events = [
        event(day, 1, record("T_A-1", 11, "-3.25")),
        event(day, 3, record("T_A-1", 12, "-12.5"), record("T_B-2", 13, "-0.4", price="20")),
        event(day, 4, record("T_A-1", 14, "-12.5")),
        event(day, 5),  # no curtailment: a calculated period with no rows
    ]
    await publish(producer, settings.topics.settlement_periods, *events)

    async def all_applied() -> bool:
        return bool(await db.fetchval("SELECT count(*) FROM settlement_periods") == 4)

    await eventually(all_applied, "four periods")
    models = await db.fetch("SELECT name, hashrate_ths, power_w FROM miner_models WHERE active")
    assert len(models) == 6
    calculations = {
        (row["settlement_period"], row["acceptance_id"], row["miner_model"]): row
        for row in await db.fetch("SELECT * FROM bitcoin_calculations")
    }
    assert len(calculations) == 4 * len(models)
    for item in events:
        stored = await period_row(db, item.settlement_date, item.settlement_period)
        assert stored is not None
        assert (stored["status"], stored["record_count"], stored["content_hash"]) == (
            "calculated",
            len(item.records),
            item.content_hash,
        )
        for rec in item.records:
            for model in models:
                row = calculations[(item.settlement_period, rec.acceptance_id, model["name"])]
                energy = -rec.volume_mwh
                assert row["energy_mwh"] == energy
                assert row["difficulty"] == DIFFICULTY[item.period_start_utc.astimezone(UTC).date()]
                assert row["btc"] == expected_btc(
                    energy, model["hashrate_ths"], model["power_w"], row["difficulty"], item.period_start_utc
                )
    rewards = {row["settlement_period"]: row["block_reward_btc"] for row in calculations.values()}
    assert rewards == {1: Decimal("6.25"), 3: Decimal("6.25"), 4: Decimal("3.125")}
    records = await db.fetch("SELECT * FROM curtailment_records ORDER BY acceptance_id")
    assert [(r["acceptance_id"], r["volume_mwh"], r["cashflow_gbp"]) for r in records] == [
        (11, Decimal("-3.25"), Decimal("147.875")),
        (12, Decimal("-12.5"), Decimal("568.75")),
        (13, Decimal("-0.4"), Decimal("-8")),
        (14, Decimal("-12.5"), Decimal("568.75")),
    ]
    published = [
        PeriodCalculatedEvent.model_validate_json(value)
        for value in await read_topic(settings.kafka_bootstrap, settings.topics.period_calculated, 4)
    ]
    assert sorted((e.settlement_period, e.status, e.record_count) for e in published) == [
        (1, "calculated", 1),
        (3, "calculated", 2),
        (4, "calculated", 1),
        (5, "calculated", 0),
    ]


async def test_revisions_old_snapshots_and_duplicates(
    settings: CalculatorSettings,
    calculator: asyncio.Task[None],
    producer: AIOKafkaProducer,
    db: asyncpg.Connection,
) -> None:
    day = date(2024, 4, 20)
    first = event(day, 10, record("T_A-1", 1, "-5"), record("T_B-2", 2, "-6"))
    revised = event(day, 10, record("T_A-1", 1, "-7"), fetched=FETCHED + timedelta(hours=1))
    older = event(day, 10, record("T_C-3", 3, "-100"), fetched=FETCHED - timedelta(hours=1))
    topic = settings.topics.settlement_periods
    await publish(producer, topic, first)

    async def applied(expected: SettlementPeriodEvent) -> bool:
        row = await period_row(db, day, 10)
        return row is not None and row["content_hash"] == expected.content_hash

    await eventually(lambda: applied(first), "the first snapshot")
    await publish(producer, topic, revised, older, revised)  # the revision, a stale one, a re-delivery
    marker = event(day, 11)  # same key order does not matter: wait for a later period on any partition

    await publish(producer, topic, marker)

    async def caught_up() -> bool:
        return await period_row(db, day, 11) is not None and await applied(revised)

    await eventually(caught_up, "the revision")
    await asyncio.sleep(1)  # let anything still in flight land before checking that the stale one did not
    records = await db.fetch(
        "SELECT bm_unit, volume_mwh FROM curtailment_records WHERE settlement_period = 10"
    )
    assert [(r["bm_unit"], r["volume_mwh"]) for r in records] == [("T_A-1", Decimal("-7"))]
    stored = await period_row(db, day, 10)
    assert stored is not None and stored["fetched_at"] == revised.fetched_at
    assert await db.fetchval("SELECT count(*) FROM bitcoin_calculations WHERE settlement_period = 10") == 6
    assert set(await db.fetchval("SELECT array_agg(DISTINCT energy_mwh) FROM bitcoin_calculations")) == {
        Decimal(7)
    }


async def test_missing_difficulty_is_pending_until_it_arrives(
    settings: CalculatorSettings,
    calculator: asyncio.Task[None],
    producer: AIOKafkaProducer,
    db: asyncpg.Connection,
) -> None:
    pending = event(PENDING_DAY, 20, record("T_A-1", 7, "-9.75"))
    await publish(producer, settings.topics.settlement_periods, pending)

    async def stored() -> bool:
        return await period_row(db, PENDING_DAY, 20) is not None

    await eventually(stored, "the pending period")
    row = await period_row(db, PENDING_DAY, 20)
    assert row is not None and (row["status"], row["difficulty"]) == ("pending_difficulty", None)
    assert await db.fetchval("SELECT count(*) FROM curtailment_records") == 1
    assert await db.fetchval("SELECT count(*) FROM bitcoin_calculations") == 0

    difficulty = Decimal("84381461788831")
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        async with open_difficulty_store(settings) as store:
            # Still unknown: nothing is computed, nothing defaulted.
            outcome = await complete_pending_periods(pool, store, settings.topics, settings.halvings())
            assert (outcome.completed, outcome.still_pending) == ([], 1)
            await store.add_difficulties({PENDING_DAY: difficulty}, source="test")
            outcome = await complete_pending_periods(pool, store, settings.topics, settings.halvings())
    finally:
        await pool.close()
    assert (outcome.completed, outcome.still_pending) == ([(PENDING_DAY, 20)], 0)
    row = await period_row(db, PENDING_DAY, 20)
    assert row is not None and (row["status"], row["difficulty"]) == ("calculated", difficulty)
    rows = await db.fetch(
        "SELECT c.btc, m.hashrate_ths, m.power_w FROM bitcoin_calculations c"
        " JOIN miner_models m ON m.name = c.miner_model"
    )
    assert len(rows) == 6
    for calc in rows:
        expected = expected_btc(
            Decimal("9.75"), calc["hashrate_ths"], calc["power_w"], difficulty, pending.period_start_utc
        )
        assert calc["btc"] == expected
    statuses = [
        PeriodCalculatedEvent.model_validate_json(value).status
        for value in await read_topic(settings.kafka_bootstrap, settings.topics.period_calculated, 2)
    ]
    assert statuses == ["pending_difficulty", "calculated"]


async def test_malformed_message_is_dead_lettered_and_the_partition_goes_on(
    settings: CalculatorSettings,
    calculator: asyncio.Task[None],
    producer: AIOKafkaProducer,
    db: asyncpg.Connection,
) -> None:
    topic = settings.topics.settlement_periods
    key = b"2024-04-20/30"
    sent = await producer.send_and_wait(topic, b'{"settlement_date": "2024-04-20", not json', key=key)
    valid = event(date(2024, 4, 20), 30, record("T_A-1", 9, "-1"))
    await publish(producer, topic, valid)  # same key, so the same partition, after the bad one

    async def valid_applied() -> bool:
        return await period_row(db, date(2024, 4, 20), 30) is not None

    await eventually(valid_applied, "the valid message after the malformed one")
    [letter_json] = await read_topic(settings.kafka_bootstrap, settings.topics.dead_letter, 1)
    letter = DeadLetter.model_validate_json(letter_json)
    assert letter.reason.startswith("invalid_json")
    assert (letter.source_topic, letter.source_partition, letter.source_offset) == (
        topic,
        sent.partition,
        sent.offset,
    )
    assert letter.payload == '{"settlement_date": "2024-04-20", not json'
    assert (letter.settlement_date, letter.settlement_period) == (date(2024, 4, 20), 30)
    position = await db.fetchval(
        "SELECT next_offset FROM consumer_positions WHERE topic = $1 AND partition = $2",
        topic,
        sent.partition,
    )
    assert position == sent.offset + 2
    assert json.loads(letter_json)["service"] == "calculator"
