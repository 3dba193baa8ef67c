"""Bad Elexon input: hypothesis-generated malformed settlement-stack payloads, served by the synthetic Elexon
server, through the ingestor's real period-ingest path. Each must be quarantined with its reason (progress
'failed' and a dead letter holding the payload as served), nothing may crash, and the valid periods around
them must come out exactly as they would have without them.

The bulk (at least 1,000 payloads) runs in process: the server's ASGI app behind the ingestor's own
ElexonClient, with an in-memory sink and progress store, so it takes seconds. A sample of payloads from the
same strategy then goes over real HTTP, Kafka and PostgreSQL and on through the calculator, so the fact
tables can be shown to hold the valid periods and nothing else."""

import asyncio
import json
import math
from collections import Counter
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from windhash_calculator.runner import run_calculator
from windhash_calculator.settings import CalculatorSettings
from windhash_common.difficulty_store import open_difficulty_store, read_difficulty_file
from windhash_common.events import DeadLetter, SettlementPeriodEvent
from windhash_common.settlement_calendar import settlement_periods
from windhash_common.topics import Topics
from windhash_elexon_sim import API_PREFIX, ElexonSimServer, FaultRule, SimState, build_app, settlement_stack
from windhash_ingestor.backfill import ingest_range
from windhash_ingestor.bm_unit_registry import packaged_wind_units
from windhash_ingestor.curtailment_rule import curtailment_records, parse_stack_payload
from windhash_ingestor.elexon_client import ElexonClient
from windhash_ingestor.period_ingest import DEAD_LETTER_PAYLOAD_BYTES, PeriodIngestor, PeriodOutcome
from windhash_ingestor.progress_store import PeriodKey, ProgressRow
from windhash_ingestor.settings import IngestorSettings

pytestmark = pytest.mark.integration

DAYS = (date(2024, 2, 5), date(2024, 2, 6))
WIND = frozenset(unit.elexon_bm_unit for unit in packaged_wind_units())
NOW = datetime(2024, 6, 1, tzinfo=UTC)
BULK_EXAMPLES = 1100
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
NOT_A_NUMBER = st.none() | st.booleans() | st.text(max_size=8) | st.lists(JSON_SCALARS, max_size=2)
NOT_AN_INT = NOT_A_NUMBER | st.floats(allow_nan=False, allow_infinity=False)


def _is_candidate(row: dict[str, Any]) -> bool:
    return row["id"] in WIND and row["soFlag"] is True and row["volume"] < 0


# Periods whose bid stack has wind curtailment, so every row-level mutation has a row to damage.
BASE_PERIODS = [
    (day, period)
    for day in DAYS
    for period in settlement_periods(day)
    if any(_is_candidate(row) for row in settlement_stack(day, period, "bid"))
]
MISSING = object()


@dataclass(frozen=True)
class Malformed:
    settlement_date: date
    settlement_period: int
    kind: str
    body: bytes

    @property
    def key(self) -> PeriodKey:
        return (self.settlement_date, self.settlement_period)


# The reason the ingestor must give for each kind (a fragment of InvalidStackPayload's message).
EXPECTED_REASONS: dict[str, tuple[str, ...]] = {
    "truncated": ("malformed JSON",),
    "not_json": ("malformed JSON",),
    "deeply_nested": ("malformed JSON", "is not an object"),
    "wrong_shape": ("no `data` array",),
    "row_not_object": ("is not an object",),
    "bad_identity_field": ("without an integer",),
    "bad_price": ("without an originalPrice", "finalPrice is not a number"),
    "bad_volume": ("without a numeric volume",),
    "bad_so_flag": ("without a soFlag",),
    "bad_unit_id": ("no BM unit id",),
    "row_of_another_period": ("was not asked for",),
    "duplicate_key": ("share the record key",),
    "bad_created_at": ("row ",),
}


def _document(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"data": rows, "metadata": {"datasets": ["ISPSTACK"], "synthetic": True}}


def _dumps(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _set(row: dict[str, Any], name: str, value: object) -> None:
    if value is MISSING:
        row.pop(name, None)
    else:
        row[name] = value


@st.composite
def malformed_payloads(draw: st.DrawFn) -> Malformed:
    day, period = draw(st.sampled_from(BASE_PERIODS))
    rows = settlement_stack(day, period, "bid")
    kind = draw(st.sampled_from(sorted(EXPECTED_REASONS)))
    return Malformed(day, period, kind, draw(_mutation(kind, rows, day, period)))


def _mutation(kind: str, rows: list[dict[str, Any]], day: date, period: int) -> st.SearchStrategy[bytes]:
    text = _dumps(_document(rows))
    if kind == "truncated":
        return st.integers(0, len(text) - 1).map(lambda cut: text[:cut])
    if kind == "not_json":
        prefixes = st.sampled_from([b"", b"<html>", b"\xff\xfe", b"{'data': []}", b"]", b"\x00"])
        return (
            st.tuples(prefixes, st.binary(max_size=64))
            .map(lambda parts: parts[0] + parts[1])
            .filter(lambda body: not _parses(body))
        )
    if kind == "deeply_nested":
        return st.integers(2, 100_000).map(lambda depth: b'{"data":' + b"[" * depth + b"]" * depth + b"}")
    if kind == "wrong_shape":
        return (
            (JSON_VALUES | JSON_VALUES.map(lambda value: {"data": value}))
            .filter(_has_no_data_array)
            .map(_dumps)
        )
    candidates = [index for index, row in enumerate(rows) if _is_candidate(row)]
    wind_rows = [index for index, row in enumerate(rows) if row["id"] in WIND]
    any_row = st.integers(0, len(rows) - 1)
    candidate = st.sampled_from(candidates)
    changes: dict[str, st.SearchStrategy[tuple[int, str, object]]] = {
        "bad_identity_field": st.tuples(
            candidate,
            st.sampled_from(["acceptanceId", "bidOfferPairId", "sequenceNumber"]),
            NOT_AN_INT | st.just(MISSING),
        ),
        "bad_price": st.tuples(candidate, st.just("originalPrice"), NOT_A_NUMBER | st.just(MISSING))
        | st.tuples(candidate, st.just("finalPrice"), NOT_A_NUMBER.filter(lambda value: value is not None)),
        "bad_volume": st.tuples(
            st.sampled_from(wind_rows),
            st.just("volume"),
            NOT_A_NUMBER | st.sampled_from([MISSING, math.nan, math.inf, -math.inf]),
        ),
        "bad_so_flag": st.tuples(
            candidate, st.just("soFlag"), st.just(MISSING) | st.none() | st.integers() | st.text(max_size=5)
        ),
        "bad_unit_id": st.tuples(
            any_row, st.just("id"), st.sampled_from([MISSING, "", None]) | st.integers() | st.lists(st.text())
        ),
        "row_of_another_period": st.tuples(
            any_row,
            st.just("settlementDate"),
            (st.dates().map(date.isoformat) | JSON_SCALARS).filter(lambda value: value != day.isoformat()),
        )
        | st.tuples(any_row, st.just("settlementPeriod"), JSON_SCALARS.filter(lambda value: value != period)),
        "bad_created_at": st.tuples(
            candidate,
            st.just("createdDateTime"),
            st.text(max_size=10).map(lambda noise: "not-a-time " + noise)
            | st.just(rows[0]["startTime"].rstrip("Z")),  # no time zone
        ),
    }
    if kind in changes:
        return changes[kind].map(lambda change: _changed(rows, *change))
    if kind == "row_not_object":
        not_objects = JSON_VALUES.filter(lambda value: not isinstance(value, dict))
        return st.tuples(st.integers(0, len(rows)), not_objects).map(
            lambda insert: _dumps(_document([*rows[: insert[0]], insert[1], *rows[insert[0] :]]))
        )
    if kind == "duplicate_key":
        return candidate.map(lambda index: _dumps(_document([*rows, dict(rows[index])])))
    raise AssertionError(f"no mutation for {kind}")


def _changed(rows: list[dict[str, Any]], index: int, name: str, value: object) -> bytes:
    copy = [dict(row) for row in rows]
    _set(copy[index], name, value)
    return _dumps(_document(copy))


def kept_payload(body: bytes) -> str:
    """What a dead letter keeps of a payload: all of it, or its first 64 KiB and its size (NUL, which jsonb
    cannot hold, replaced)."""
    kept = body[:DEAD_LETTER_PAYLOAD_BYTES].decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    return (
        kept if len(body) <= DEAD_LETTER_PAYLOAD_BYTES else f"{kept}\n[truncated: {len(body)} bytes in all]"
    )


def _parses(body: bytes) -> bool:
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return False
    return True


def _has_no_data_array(value: object) -> bool:
    return not (isinstance(value, dict) and isinstance(value.get("data"), list))


@dataclass
class MemorySink:
    events: list[SettlementPeriodEvent] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)

    async def publish_period(self, event: SettlementPeriodEvent) -> None:
        self.events.append(event)

    async def publish_dead_letter(self, letter: DeadLetter) -> None:
        self.dead_letters.append(letter)


@dataclass
class MemoryProgress:
    rows: dict[PeriodKey, ProgressRow] = field(default_factory=dict)

    async def rows_between(self, first: date, last: date) -> dict[PeriodKey, ProgressRow]:
        return {key: row for key, row in self.rows.items() if first <= key[0] <= last}

    async def get(self, settlement_date: date, settlement_period: int) -> ProgressRow | None:
        return self.rows.get((settlement_date, settlement_period))

    async def record_ok(
        self, settlement_date: date, settlement_period: int, count: int, energy: Decimal, content_hash: str
    ) -> None:
        row = ProgressRow(settlement_date, settlement_period, "ok", count, energy, content_hash, None, 1)
        self.rows[(settlement_date, settlement_period)] = row

    async def record_failure(self, settlement_date: date, settlement_period: int, error: str) -> None:
        row = ProgressRow(settlement_date, settlement_period, "failed", None, None, None, error, 1)
        self.rows[(settlement_date, settlement_period)] = row

    async def failed_since(self, first: date) -> list[PeriodKey]:
        return sorted(key for key, row in self.rows.items() if row.status == "failed" and key[0] >= first)

    async def flush(self) -> None:
        pass  # written as recorded


@dataclass
class InProcessIngest:
    """The real PeriodIngestor and ElexonClient against the sim's ASGI app, on a private event loop
    (hypothesis drives a synchronous test)."""

    state: SimState
    sink: MemorySink
    progress: MemoryProgress
    loop: asyncio.AbstractEventLoop
    ingestor: PeriodIngestor

    def run(self, work: Coroutine[Any, Any, PeriodOutcome]) -> PeriodOutcome:
        return self.loop.run_until_complete(work)


@pytest.fixture(scope="module")
def in_process() -> Iterator[InProcessIngest]:
    state = SimState()
    loop = asyncio.new_event_loop()
    settings = IngestorSettings(elexon_base_url="http://sim" + API_PREFIX, elexon_max_retries=0)
    transport = httpx.ASGITransport(app=build_app(state))

    async def open_client() -> ElexonClient:
        return ElexonClient(settings, transport=transport)

    client = loop.run_until_complete(open_client())
    sink, progress = MemorySink(), MemoryProgress()
    ingestor = PeriodIngestor(client, sink, progress, WIND, clock=lambda: NOW)
    yield InProcessIngest(state, sink, progress, loop, ingestor)
    loop.run_until_complete(client.aclose())
    loop.close()


def expected_event(day: date, period: int) -> SettlementPeriodEvent:
    rows = parse_stack_payload(_dumps(_document(settlement_stack(day, period, "bid")))).rows
    records = curtailment_records(rows, WIND, day, period)
    return SettlementPeriodEvent.build(day, period, records, NOW, synthetic=True)


def test_a_thousand_malformed_payloads_are_each_quarantined_with_their_reason(
    in_process: InProcessIngest,
) -> None:
    harness = in_process
    kinds: Counter[str] = Counter()

    @settings(
        max_examples=BULK_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(malformed_payloads())
    def one_payload(bad: Malformed) -> None:
        harness.state.faults.add(
            FaultRule(kind="payload", date=bad.settlement_date, period=bad.settlement_period, body=bad.body)
        )
        published, lettered = len(harness.sink.events), len(harness.sink.dead_letters)
        outcome = harness.run(harness.ingestor.ingest(bad.settlement_date, bad.settlement_period))
        assert all(rule.remaining == 0 for rule in harness.state.faults.snapshot()), "payload not served"
        harness.state.faults.clear()
        assert outcome.status == "failed", f"{bad.kind} accepted: {bad.body[:300]!r}"
        assert outcome.error is not None and outcome.error.startswith("invalid payload: ")
        reason = outcome.error.removeprefix("invalid payload: ")
        assert any(fragment in reason for fragment in EXPECTED_REASONS[bad.kind]), (bad.kind, reason)
        progress = harness.progress.rows[bad.key]
        assert (progress.status, progress.error) == ("failed", outcome.error)
        assert len(harness.sink.events) == published, "a malformed payload was published"
        assert len(harness.sink.dead_letters) == lettered + 1
        letter = harness.sink.dead_letters[-1]
        assert letter.reason.startswith(f"invalid_payload: {reason}") and letter.service == "ingestor"
        assert (letter.settlement_date, letter.settlement_period) == bad.key
        assert letter.payload == kept_payload(bad.body)
        kinds[bad.kind] += 1

    one_payload()
    assert sum(kinds.values()) >= 1000, kinds
    assert set(kinds) == set(EXPECTED_REASONS), f"kinds never generated: {set(EXPECTED_REASONS) - set(kinds)}"

    # The same ingestor, right after, on every period it was fed garbage for: exactly the clean events.
    harness.sink.events.clear()
    for day, period in BASE_PERIODS:
        outcome = harness.run(harness.ingestor.ingest(day, period))
        assert outcome.status == "published"
        assert harness.progress.rows[(day, period)].status == "ok"
    expected = [expected_event(day, period) for day, period in BASE_PERIODS]
    assert [event.model_dump() for event in harness.sink.events] == [event.model_dump() for event in expected]


def sample_payloads(count: int) -> list[Malformed]:
    """`count` payloads from the same strategy, one per period (derandomized: the same every run)."""
    chosen: dict[PeriodKey, Malformed] = {}

    @settings(
        max_examples=count * 6,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(malformed_payloads())
    def collect(bad: Malformed) -> None:
        if len(chosen) < count and bad.key not in chosen and len(bad.body) < 200_000:
            chosen[bad.key] = bad

    collect()
    assert len(chosen) == count
    return sorted(chosen.values(), key=lambda bad: bad.key)


@pytest.fixture
def sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer() as server:
        yield server


@pytest.fixture
async def difficulty_loaded(service_env: dict[str, str]) -> AsyncIterator[None]:
    async with open_difficulty_store(CalculatorSettings()) as store:
        await store.ensure_table()
        await store.add_difficulties(read_difficulty_file(None), source="test")
    yield


async def test_malformed_payloads_over_http_kafka_and_postgres_leave_only_valid_periods(
    sim: ElexonSimServer, service_env: dict[str, str], pg_dsn: str, topic_prefix: str, difficulty_loaded: None
) -> None:
    bad = {payload.key: payload for payload in sample_payloads(24)}
    for payload in bad.values():
        sim.add_fault(
            FaultRule(
                kind="payload",
                date=payload.settlement_date,
                period=payload.settlement_period,
                body=payload.body,
            )
        )
    settings = IngestorSettings(elexon_base_url=sim.base_url, elexon_max_retries=0)
    report = await ingest_range(settings, DAYS[0], DAYS[-1])

    every = [(day, period) for day in DAYS for period in settlement_periods(day)]
    valid = [key for key in every if key not in bad]
    assert {(f.settlement_date, f.settlement_period) for f in report.failures} == set(bad)
    connection = await asyncpg.connect(pg_dsn)
    try:
        progress = {
            (row["settlement_date"], row["settlement_period"]): row
            for row in await connection.fetch("SELECT * FROM ingestion_progress")
        }
        assert set(progress) == set(every)
        for key, payload in bad.items():
            assert progress[key]["status"] == "failed"
            reason = progress[key]["error"].removeprefix("invalid payload: ")
            assert any(fragment in reason for fragment in EXPECTED_REASONS[payload.kind]), (
                payload.kind,
                reason,
            )
        assert all(progress[key]["status"] == "ok" for key in valid)

        letters = [
            DeadLetter.model_validate_json(value)
            for value in await read_topic(Topics(topic_prefix).dead_letter)
        ]
        assert sorted((letter.settlement_date, letter.settlement_period) for letter in letters) == sorted(bad)
        for letter in letters:
            payload = bad[(letter.settlement_date, letter.settlement_period)]  # type: ignore[index]
            assert letter.payload == kept_payload(payload.body)

        await calculate_everything_published(topic_prefix)
        stored = await connection.fetch(
            "SELECT settlement_date, settlement_period, content_hash FROM settlement_periods ORDER BY 1, 2"
        )
        expected = {key: expected_event(*key) for key in valid}
        assert [(row[0], row[1]) for row in stored] == valid
        assert all(row["content_hash"] == expected[(row[0], row[1])].content_hash for row in stored)
        records = await connection.fetchval("SELECT count(*) FROM curtailment_records")
        assert records == sum(len(event.records) for event in expected.values())
        outside = await connection.fetchval(
            "SELECT count(*) FROM curtailment_records r WHERE (r.settlement_date, r.settlement_period) IN"
            " (SELECT * FROM unnest($1::date[], $2::int[]))",
            [key[0] for key in bad],
            [key[1] for key in bad],
        )
        assert outside == 0
    finally:
        await connection.close()


def topic_partitions(topic: str) -> list[TopicPartition]:
    # The fixtures and services create every topic with WINDHASH_TOPIC_PARTITIONS partitions.
    return [TopicPartition(topic, partition) for partition in range(CalculatorSettings().topic_partitions)]


async def read_topic(topic: str) -> list[bytes]:
    """Every message of a topic, from the start to its end offsets now."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=CalculatorSettings().kafka_bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = topic_partitions(topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        values: list[bytes] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                values += [record.value for record in records]
        return values
    finally:
        await consumer.stop()


async def calculate_everything_published(topic_prefix: str) -> None:
    """The calculator in process, until its stored positions reach the end of the settlement-period topic."""
    settings = CalculatorSettings(calculator_group="stress-bad-input")
    stop = asyncio.Event()
    task = asyncio.create_task(run_calculator(settings, stop))
    topic = Topics(topic_prefix).settlement_periods
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    await consumer.start()
    connection = await asyncpg.connect(settings.database_url)
    try:
        ends = await consumer.end_offsets(topic_partitions(topic))
        deadline = asyncio.get_running_loop().time() + 120
        while True:
            assert not task.done(), f"the calculator stopped: {task.exception() if task.done() else ''}"
            stored = dict(
                ((row["partition"]), row["next_offset"])
                for row in await connection.fetch(
                    "SELECT partition, next_offset FROM consumer_positions WHERE topic = $1", topic
                )
            )
            if all(stored.get(tp.partition, 0) >= end for tp, end in ends.items()):
                break
            assert asyncio.get_running_loop().time() < deadline, "the calculator did not catch up"
            await asyncio.sleep(0.3)
    finally:
        await connection.close()
        await consumer.stop()
        stop.set()
        await asyncio.wait_for(task, 60)


async def test_an_oversized_malformed_payload_is_still_dead_lettered(
    sim: ElexonSimServer, service_env: dict[str, str], pg_dsn: str, topic_prefix: str
) -> None:
    """A proxy's error page or a runaway response can be larger than a Kafka message may be (1 MiB): the
    period must still fail loudly and its dead letter must still be published, with the payload cut short."""
    day, period = BASE_PERIODS[0]
    body = b"<html>" + b"x" * 3_000_000
    sim.add_fault(FaultRule(kind="payload", date=day, period=period, body=body))
    report = await ingest_range(IngestorSettings(elexon_base_url=sim.base_url), day, day)

    assert [(f.settlement_date, f.settlement_period) for f in report.failures] == [(day, period)]
    letters = [DeadLetter.model_validate_json(v) for v in await read_topic(Topics(topic_prefix).dead_letter)]
    assert [(letter.settlement_date, letter.settlement_period) for letter in letters] == [(day, period)]
    assert letters[0].payload == kept_payload(body)
