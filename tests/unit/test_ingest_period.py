"""One period and a range of them through the ingestor, against the synthetic server's ASGI app, with an
in-memory event sink and progress store (the integration tests use Kafka and PostgreSQL)."""

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from aiokafka.errors import KafkaConnectionError
from windhash_common.events import DeadLetter, SettlementPeriodEvent
from windhash_elexon_sim import FaultRule, SimState, build_app, settlement_stack
from windhash_elexon_sim.units import wind_unit_ids
from windhash_ingestor.backfill import ingest_periods_in_range
from windhash_ingestor.elexon_client import ElexonClient
from windhash_ingestor.period_ingest import PeriodIngestor
from windhash_ingestor.progress_store import PeriodKey, ProgressRow
from windhash_ingestor.settings import IngestorSettings

DAY = date(2024, 1, 5)
NOW = datetime(2024, 6, 1, tzinfo=UTC)


@dataclass
class MemorySink:
    events: list[SettlementPeriodEvent] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    broken: bool = False

    async def publish_period(self, event: SettlementPeriodEvent) -> None:
        if self.broken:
            raise KafkaConnectionError("broker down")
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
        self,
        settlement_date: date,
        settlement_period: int,
        record_count: int,
        energy_mwh: Decimal,
        content_hash: str,
    ) -> None:
        previous = self.rows.get((settlement_date, settlement_period))
        attempts = 1 if previous is None else previous.attempts + 1
        self.rows[(settlement_date, settlement_period)] = ProgressRow(
            settlement_date, settlement_period, "ok", record_count, energy_mwh, content_hash, None, attempts
        )

    async def record_failure(self, settlement_date: date, settlement_period: int, error: str) -> None:
        key = (settlement_date, settlement_period)
        previous = self.rows.get(key)
        if previous is None:
            self.rows[key] = ProgressRow(
                settlement_date, settlement_period, "failed", None, None, None, error, 1
            )
        else:
            self.rows[key] = replace(previous, status="failed", error=error, attempts=previous.attempts + 1)

    async def failed_since(self, first: date) -> list[PeriodKey]:
        return sorted(key for key, row in self.rows.items() if row.status == "failed" and key[0] >= first)

    async def flush(self) -> None:
        pass  # written as recorded


@dataclass
class Harness:
    sim: SimState
    sink: MemorySink
    progress: MemoryProgress
    ingestor: PeriodIngestor


async def no_sleep(delay: float) -> None:
    pass


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    sim = SimState()
    settings = IngestorSettings(elexon_base_url="http://sim/bmrs/api/v1", elexon_max_retries=2)
    transport = httpx.ASGITransport(app=build_app(sim))
    async with ElexonClient(settings, transport=transport, sleep=no_sleep, rng=random.Random(0)) as client:
        sink, progress = MemorySink(), MemoryProgress()
        ingestor = PeriodIngestor(client, sink, progress, wind_unit_ids(), clock=lambda: NOW)
        yield Harness(sim, sink, progress, ingestor)


def expected(day: date, period: int, revision: int = 0) -> tuple[int, Decimal]:
    """Records and MWh computed straight from the generator's rows, independently of the ingestor's rule."""
    wind = wind_unit_ids()
    rows = [
        row
        for row in settlement_stack(day, period, "bid", revision)
        if row["id"] in wind and row["soFlag"] is True and row["volume"] < 0
    ]
    return len(rows), sum((-Decimal(repr(row["volume"])) for row in rows), Decimal(0))


async def test_a_period_is_published_with_exact_records_then_recorded_ok(harness: Harness) -> None:
    outcome = await harness.ingestor.ingest(DAY, 3)
    count, energy = expected(DAY, 3)
    assert (outcome.status, outcome.record_count, outcome.energy_mwh) == ("published", count, energy)
    (event,) = harness.sink.events
    assert len(event.records) == count and event.synthetic and event.fetched_at == NOW
    assert sum(-record.volume_mwh for record in event.records) == energy
    row = harness.progress.rows[(DAY, 3)]
    assert (row.status, row.record_count, row.energy_mwh, row.content_hash) == (
        "ok",
        count,
        energy,
        event.content_hash,
    )


async def test_a_fetch_that_keeps_failing_is_recorded_failed_never_published_empty(harness: Harness) -> None:
    harness.sim.faults.add(FaultRule(kind="status", status=500, period=3, times=None))
    outcome = await harness.ingestor.ingest(DAY, 3)
    assert outcome.status == "failed" and "HTTP 500" in (outcome.error or "")
    assert harness.sink.events == []
    assert harness.progress.rows[(DAY, 3)].status == "failed"


async def test_a_malformed_payload_is_dead_lettered_with_its_reason(harness: Harness) -> None:
    harness.sim.faults.add(FaultRule(kind="malformed", period=3))
    outcome = await harness.ingestor.ingest(DAY, 3)
    assert outcome.status == "failed"
    (letter,) = harness.sink.dead_letters
    assert letter.reason.startswith("invalid_payload: malformed JSON") and (
        letter.settlement_date,
        letter.settlement_period,
    ) == (DAY, 3)
    assert letter.payload.startswith('{"data":[')
    assert harness.sink.events == [] and harness.progress.rows[(DAY, 3)].status == "failed"
    # The next run retries it and succeeds.
    assert (await harness.ingestor.ingest(DAY, 3)).status == "published"
    assert harness.progress.rows[(DAY, 3)].status == "ok" and harness.progress.rows[(DAY, 3)].attempts == 2


@pytest.mark.parametrize(("kind", "name"), [("null_field", "acceptanceId"), ("missing_field", "soFlag")])
async def test_a_candidate_row_missing_a_field_fails_the_whole_period(
    harness: Harness, kind: str, name: str
) -> None:
    harness.sim.faults.add(FaultRule.model_validate({"kind": kind, "field": name, "period": 3}))
    outcome = await harness.ingestor.ingest(DAY, 3)
    assert outcome.status == "failed" and name in (outcome.error or "")
    assert name in harness.sink.dead_letters[0].reason
    assert harness.sink.events == []


async def test_a_kafka_failure_is_recorded_not_marked_ok(harness: Harness) -> None:
    harness.sink.broken = True
    outcome = await harness.ingestor.ingest(DAY, 3)
    assert outcome.status == "failed" and "publish failed" in (outcome.error or "")
    assert harness.progress.rows[(DAY, 3)].status == "failed"


async def test_if_changed_publishes_only_revised_content(harness: Harness) -> None:
    first = await harness.ingestor.ingest(DAY, 3, "if_changed")
    again = await harness.ingestor.ingest(DAY, 3, "if_changed")
    assert (first.status, again.status) == ("published", "unchanged")
    harness.sim.revise(DAY, 3)
    revised = await harness.ingestor.ingest(DAY, 3, "if_changed")
    assert revised.status == "published" and revised.content_hash != first.content_hash
    assert (revised.record_count, revised.energy_mwh) == expected(DAY, 3, revision=1)
    assert [event.content_hash for event in harness.sink.events] == [first.content_hash, revised.content_hash]


async def test_a_range_is_resumable_and_reports_every_period(harness: Harness) -> None:
    first, last = date(2024, 3, 30), date(2024, 3, 31)  # 48 + 46 periods
    harness.sim.faults.add(FaultRule(kind="status", status=503, date=last, period=10, times=None))
    report = await ingest_periods_in_range(
        harness.ingestor, harness.progress, first, last, workers=4, now=NOW
    )
    assert [(day.periods, day.published, day.failed) for day in report.days] == [(48, 48, 0), (46, 45, 1)]
    assert [(f.settlement_date, f.settlement_period) for f in report.failures] == [(last, 10)]
    assert not report.succeeded
    harness.sim.faults.clear()
    again = await ingest_periods_in_range(harness.ingestor, harness.progress, first, last, workers=4, now=NOW)
    assert again.succeeded
    assert [(day.published, day.skipped) for day in again.days] == [(0, 48), (1, 45)]
    totals = [
        expected(day, period) for day in (first, last) for period in range(1, 49 if day == first else 47)
    ]
    assert again.total.records == sum(count for count, _ in totals)
    assert again.total.energy_mwh == sum((energy for _, energy in totals), Decimal(0))
    assert len(harness.sink.events) == 94


async def test_periods_that_have_not_ended_are_pending_not_fetched(harness: Harness) -> None:
    now = datetime(2024, 1, 5, 1, 10, tzinfo=UTC)  # periods 1 and 2 have ended, period 3 is running
    report = await ingest_periods_in_range(harness.ingestor, harness.progress, DAY, DAY, workers=2, now=now)
    assert (report.days[0].published, report.days[0].pending) == (2, 46)
    assert report.succeeded and len(harness.sink.events) == 2
