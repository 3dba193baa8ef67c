"""Bad messages straight onto the settlement-periods topic: hypothesis-generated malformed, schema-breaking,
unstorable and oversized messages, interleaved with valid events, through the real calculator (in process)
over real Kafka and PostgreSQL.

Each bad message must come back as exactly one dead letter naming its source offset and the right reason, the
calculator must keep running, and the fact tables must hold the valid events and nothing else."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from windhash_calculator.runner import run_calculator
from windhash_calculator.settings import CalculatorSettings
from windhash_common.difficulty_store import open_difficulty_store, read_difficulty_file
from windhash_common.events import CurtailmentRecord, DeadLetter, SettlementPeriodEvent
from windhash_common.money import cashflow_to_farm_gbp
from windhash_common.settlement_calendar import settlement_periods
from windhash_common.topics import Topics

pytestmark = pytest.mark.integration

DAY = date(2024, 3, 31)  # 46 periods
FETCHED = datetime(2024, 6, 1, tzinfo=UTC)
MAX_BYTES = 65_536
BAD_MESSAGES = 300
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
# Values no field of an event accepts, even in pydantic's lax mode ("x…" is not a number, bool, date or hash).
NEVER_VALID = (
    st.none() | st.lists(JSON_SCALARS, min_size=1, max_size=2) | st.text(max_size=8).map("x-".__add__)
)
EVENT_FIELDS = sorted(SettlementPeriodEvent.model_fields)
RECORD_FIELDS = sorted(
    set(CurtailmentRecord.model_fields) - {"created_at", "final_price_gbp_per_mwh", "cadl_flag"}
)


def record(index: int, volume: Decimal = Decimal("-12.5"), **changes: Any) -> CurtailmentRecord:
    fields: dict[str, Any] = {
        "bm_unit": f"T_STRESS-{index % 7}",
        "acceptance_id": 500_000 + index,
        "bid_offer_pair_id": -1,
        "sequence_number": index + 1,
        "created_at": FETCHED,
        "volume_mwh": volume,
        "original_price_gbp_per_mwh": Decimal("-41.25"),
        "final_price_gbp_per_mwh": None,
        "cashflow_gbp": cashflow_to_farm_gbp(volume, Decimal("-41.25")),
        "so_flag": True,
        "cadl_flag": None,
    }
    return CurtailmentRecord(**{**fields, **changes})


def valid_event(period: int, records: int = 3) -> SettlementPeriodEvent:
    chosen = tuple(record(period * 1000 + index, Decimal(-(index + 1)) / 3) for index in range(records))
    return SettlementPeriodEvent.build(DAY, period, chosen, FETCHED, synthetic=True)


@dataclass(frozen=True)
class BadMessage:
    kind: str  # the rejection kind the calculator must name ("invalid_json|schema": either)
    key: bytes | None
    value: bytes | None


def _json(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


@st.composite
def bad_messages(draw: st.DrawFn) -> BadMessage:
    key = draw(
        st.sampled_from([None, b"2024-03-31/07", b"not-a-key", b"2024-02-30/01"]) | st.binary(max_size=20)
    )
    base = valid_event(draw(st.integers(1, 46))).model_dump(mode="json")
    choice = draw(
        st.sampled_from(["garbage", "json", "field", "extra", "record", "period", "unstorable", "big"])
    )
    if choice == "garbage":
        value = draw(st.sampled_from([b"", b"<", b"\xff", b"{'a'", b"\x00"])) + draw(st.binary(max_size=80))
        return BadMessage("invalid_json|schema", key, value)
    if choice == "json":
        return BadMessage("invalid_json|schema", key, _json(draw(JSON_VALUES)))
    if choice == "field":
        name = draw(st.sampled_from(EVENT_FIELDS))
        changed = dict(base)
        if draw(st.booleans()) and name != "schema_version":  # the one field with a default
            del changed[name]
        else:
            changed[name] = draw(NEVER_VALID)
        return BadMessage("schema", key, _json(changed))
    if choice == "extra":
        return BadMessage(
            "schema", key, _json({**base, draw(st.text(min_size=1, max_size=8).map("x".__add__)): 1})
        )
    if choice == "record":
        records = [dict(item) for item in base["records"]]
        target = records[draw(st.integers(0, len(records) - 1))]
        name = draw(st.sampled_from([*RECORD_FIELDS, "volume_positive", "duplicate"]))
        if name == "volume_positive":
            target["volume_mwh"] = str(draw(st.decimals(min_value=0, max_value=10**6, places=3)))
        elif name == "duplicate":
            records.append(dict(target))
        else:
            target[name] = draw(NEVER_VALID)
        return BadMessage("schema", key, _json({**base, "records": records}))
    if choice == "period":
        # A period the day does not have, or a start time that is not the period's.
        changed = dict(base)
        if draw(st.booleans()):
            changed["settlement_period"] = draw(st.sampled_from([0, 47, 48, 49, 50, 51, -1]))
        else:
            start = datetime.fromisoformat(base["period_start_utc"]) + timedelta(
                minutes=draw(st.integers(1, 600))
            )
            changed["period_start_utc"] = start.isoformat()
        return BadMessage("schema", key, _json(changed))
    if choice == "unstorable":
        # Values past what the columns hold: the event schema itself refuses them (events.py bounds).
        return BadMessage("schema", key, draw(unstorable_events()))
    padding = draw(st.integers(1, 20_000))
    return BadMessage("oversized", key, b" " * (MAX_BYTES + padding) + _json(base))


@st.composite
def unstorable_events(draw: st.DrawFn) -> bytes:
    """Events whose values the columns cannot hold, as a producer that skipped its checks would send them."""
    changes: list[dict[str, Any]] = [
        {"volume_mwh": "-1E+9"},
        {"volume_mwh": "-1E-7"},
        {"acceptance_id": 2**63},
        {"bid_offer_pair_id": -(2**31) - 1},
        {"sequence_number": 2**31},
        {"bm_unit": "T_NUL\x00"},
        {"original_price_gbp_per_mwh": "1E+9"},
        {"cashflow_gbp": "-1E+13"},
    ]
    good = record(draw(st.integers(0, 10**6)), Decimal("-3"))
    event = SettlementPeriodEvent.build(DAY, draw(st.integers(1, 46)), (good,), FETCHED, synthetic=True)
    document = event.model_dump(mode="json")
    document["records"][0].update(draw(st.sampled_from(changes)))
    return _json(document)


def generated_bad_messages(count: int) -> list[BadMessage]:
    collected: list[BadMessage] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(bad_messages())
    def collect(message: BadMessage) -> None:
        collected.append(message)

    collect()
    return collected


@pytest.fixture
async def difficulty_loaded(service_env: dict[str, str]) -> AsyncIterator[None]:
    async with open_difficulty_store(CalculatorSettings()) as store:
        await store.ensure_table()
        await store.add_difficulties(read_difficulty_file(None), source="test")
    yield


async def test_bad_messages_become_dead_letters_and_leave_only_valid_facts(
    service_env: dict[str, str], pg_dsn: str, topic_prefix: str, difficulty_loaded: None
) -> None:
    topics = Topics(topic_prefix)
    bad = generated_bad_messages(BAD_MESSAGES)
    bad.append(BadMessage("empty", b"2024-03-31/01", None))
    bad.append(
        BadMessage("oversized", b"2024-03-31/02", valid_event(2, records=400).model_dump_json().encode())
    )
    assert len(valid_event(2, records=400).model_dump_json()) > MAX_BYTES
    valid = [valid_event(period) for period in settlement_periods(DAY)]
    sent_bad: dict[tuple[int, int], BadMessage] = {}
    refused_by_kafka = 0
    producer = AIOKafkaProducer(bootstrap_servers=service_env["WINDHASH_KAFKA_BOOTSTRAP"], acks="all")
    await producer.start()
    try:
        for index in range(max(len(bad), len(valid))):  # interleaved, so bad messages sit between good ones
            if index < len(valid):
                await producer.send_and_wait(
                    topics.settlement_periods,
                    valid[index].model_dump_json().encode(),
                    key=valid[index].kafka_key,
                )
            if index < len(bad) and bad[index].key is None:
                # The settlement-period topic is compacted: Kafka itself refuses a message without a key.
                with pytest.raises(KafkaError):
                    await producer.send_and_wait(topics.settlement_periods, bad[index].value)
                refused_by_kafka += 1
            elif index < len(bad):
                sent = await producer.send_and_wait(
                    topics.settlement_periods, bad[index].value, key=bad[index].key
                )
                sent_bad[(sent.partition, sent.offset)] = bad[index]
    finally:
        await producer.stop()

    await run_calculator_until_caught_up(topics)

    connection = await asyncpg.connect(pg_dsn)
    try:
        letters = [
            DeadLetter.model_validate_json(row["payload"])
            for row in await connection.fetch(
                "SELECT payload::text AS payload FROM outbox WHERE topic = $1 ORDER BY id", topics.dead_letter
            )
        ]
        by_source = {(letter.source_partition, letter.source_offset): letter for letter in letters}
        assert len(by_source) == len(letters) == len(sent_bad)
        assert refused_by_kafka == sum(1 for message in bad if message.key is None)
        assert set(by_source) == set(sent_bad)
        for source, message in sent_bad.items():
            letter = by_source[source]
            kind = letter.reason.split(":", 1)[0]
            assert kind in message.kind.split("|"), (message, letter.reason)
            assert letter.service == "calculator" and letter.source_topic == topics.settlement_periods
            assert len(letter.payload) <= 70_000  # an oversized payload is kept only in part
        stored = await connection.fetch(
            "SELECT settlement_date, settlement_period, content_hash, record_count FROM settlement_periods"
            " ORDER BY 1, 2"
        )
        assert [(row[0], row[1], row[2], row[3]) for row in stored] == [
            (event.settlement_date, event.settlement_period, event.content_hash, len(event.records))
            for event in valid
        ]
        keys = await connection.fetch(
            "SELECT bm_unit, acceptance_id FROM curtailment_records ORDER BY acceptance_id"
        )
        expected = sorted((r.bm_unit, r.acceptance_id) for event in valid for r in event.records)
        assert [(row[0], row[1]) for row in keys] == sorted(expected, key=lambda key: key[1])
        calculations = await connection.fetchval("SELECT count(*) FROM bitcoin_calculations")
        models = await connection.fetchval("SELECT count(*) FROM miner_models WHERE active")
        assert calculations == len(expected) * models
    finally:
        await connection.close()
    assert len(await read_topic(topics.dead_letter)) >= len(sent_bad)  # relayed to Kafka (at least once)


async def run_calculator_until_caught_up(topics: Topics) -> None:
    """The calculator in process, until its positions reach the topic's end and its outbox is relayed."""
    settings = CalculatorSettings(calculator_max_message_bytes=MAX_BYTES, calculator_batch_messages=50)
    stop = asyncio.Event()
    task = asyncio.create_task(run_calculator(settings, stop))
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    await consumer.start()
    connection = await asyncpg.connect(settings.database_url)
    try:
        partitions = [TopicPartition(topics.settlement_periods, p) for p in range(settings.topic_partitions)]
        ends = await consumer.end_offsets(partitions)
        deadline = asyncio.get_running_loop().time() + 180
        while True:
            assert not task.done(), f"the calculator stopped: {task.exception()}"
            rows = await connection.fetch(
                "SELECT partition, next_offset FROM consumer_positions WHERE topic = $1",
                topics.settlement_periods,
            )
            stored = {row["partition"]: row["next_offset"] for row in rows}
            backlog = await connection.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            if all(stored.get(tp.partition, 0) >= end for tp, end in ends.items()) and backlog == 0:
                break
            assert asyncio.get_running_loop().time() < deadline, f"the calculator did not catch up: {stored}"
            await asyncio.sleep(0.3)
    finally:
        await connection.close()
        await consumer.stop()
        stop.set()
        await asyncio.wait_for(task, 60)


async def read_topic(topic: str) -> list[bytes | None]:
    settings = CalculatorSettings()
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, partition) for partition in range(settings.topic_partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        values: list[bytes | None] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                values += [item.value for item in records]
        return values
    finally:
        await consumer.stop()
