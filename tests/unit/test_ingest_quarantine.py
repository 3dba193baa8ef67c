"""A row that cannot be turned into exact, storable figures quarantines its period and nothing else: numbers
no column can hold (±1e308, 1E+400), volumes that round to nothing, prices past any market, a `startTime` the
settlement calendar contradicts, a created time no database can store. Each such period is recorded failed
with its reason and dead-lettered; the run goes on with every other period, reports the failure (the CLI exits
non-zero), and ingestion_progress says ok for exactly the periods published, with their content hashes.

Payloads are served by the synthetic Elexon server's app (the `payload` fault) to the ingestor's own client,
with the in-memory sink and progress store of test_ingest_period."""

import hashlib
import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from test_ingest_period import NOW, Harness, MemoryProgress, MemorySink, no_sleep  # type: ignore[import-not-found]
from windhash_common.events import SettlementPeriodEvent
from windhash_common.settlement_calendar import settlement_periods
from windhash_elexon_sim import FaultRule, SimState, build_app, settlement_stack
from windhash_elexon_sim.units import wind_unit_ids
from windhash_ingestor.backfill import ingest_periods_in_range
from windhash_ingestor.elexon_client import ElexonClient
from windhash_ingestor.period_ingest import PeriodIngestor
from windhash_ingestor.settings import IngestorSettings

DAY = date(2024, 1, 5)
WIND = wind_unit_ids()
PLACEHOLDER = "__RAW_JSON__"
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    sim = SimState()
    ingestor_settings = IngestorSettings(elexon_base_url="http://sim/bmrs/api/v1", elexon_max_retries=0)
    transport = httpx.ASGITransport(app=build_app(sim))
    async with ElexonClient(
        ingestor_settings, transport=transport, sleep=no_sleep, rng=random.Random(0)
    ) as client:
        sink, progress = MemorySink(), MemoryProgress()
        yield Harness(sim, sink, progress, PeriodIngestor(client, sink, progress, WIND, clock=lambda: NOW))


def _candidate_periods() -> list[int]:
    return [
        period
        for period in settlement_periods(DAY)
        if any(_is_candidate(row) for row in settlement_stack(DAY, period, "bid"))
    ]


def _is_candidate(row: dict[str, Any]) -> bool:
    return row["id"] in WIND and row["soFlag"] is True and row["volume"] < 0


PERIODS = _candidate_periods()


def _body_with(period: int, field: str, raw: str, every_row: bool = False) -> bytes:
    """The period's real stack with `field` of its first curtailment row (or of every row) set to the JSON
    text `raw`, byte for byte."""
    rows = [dict(row) for row in settlement_stack(DAY, period, "bid")]
    for row in rows:
        if every_row or _is_candidate(row):
            row[field] = PLACEHOLDER
            if not every_row:
                break
    text = json.dumps({"data": rows, "metadata": {"datasets": ["ISPSTACK"], "synthetic": True}})
    return text.replace(json.dumps(PLACEHOLDER), raw).encode()


HUGE = st.sampled_from(["-1e308", "1e308", "-1E+400", "1E+400", "1e30", "-123456789012", "100000000"])
UNSTORABLE = st.one_of(
    st.tuples(
        st.just("volume"),
        st.sampled_from(
            ["-1e308", "-1E+400", "-1e30", "-123456789012", "-1e-30", "-0.0000004", "-100000000"]
        ),
    ),
    st.tuples(st.sampled_from(["originalPrice", "finalPrice"]), HUGE),
    st.tuples(
        st.just("createdDateTime"),
        st.sampled_from(
            ['"0001-01-01T00:00:00+14:00"', '"9999-12-31T23:59:59-14:00"', '"1900-01-01T00:00:00Z"']
        ),
    ),
    st.tuples(
        st.sampled_from(["acceptanceId"]), st.sampled_from(["9223372036854775808", "-9223372036854775809"])
    ),
    st.tuples(
        st.sampled_from(["bidOfferPairId", "sequenceNumber"]), st.sampled_from(["2147483648", "-2147483649"])
    ),
)


@SETTINGS
@given(period=st.sampled_from(PERIODS), change=UNSTORABLE)
async def test_a_figure_no_column_can_hold_quarantines_only_its_period(
    harness: Harness, period: int, change: tuple[str, str]
) -> None:
    field, raw = change
    harness.sim.faults.clear()
    harness.sink.events.clear()
    harness.sink.dead_letters.clear()
    harness.sim.faults.add(FaultRule(kind="payload", period=period, body=_body_with(period, field, raw)))
    outcome = await harness.ingestor.ingest(DAY, period)
    assert outcome.status == "failed", (field, raw)
    assert harness.sink.events == []
    (letter,) = harness.sink.dead_letters
    assert letter.settlement_period == period and "row" in letter.reason
    row = harness.progress.rows[(DAY, period)]
    assert row.status == "failed" and row.error


@pytest.mark.parametrize(
    "start_time", ['"2024-01-05T00:00:00Z"', '"2023-01-05T10:00:00Z"', '"not a time"', "17", "null"]
)
async def test_a_start_time_the_calendar_contradicts_quarantines_the_period(
    harness: Harness, start_time: str
) -> None:
    period = PERIODS[-1]  # never period 1, whose real start time is midnight
    harness.sim.faults.add(
        FaultRule(
            kind="payload", period=period, body=_body_with(period, "startTime", start_time, every_row=True)
        )
    )
    outcome = await harness.ingestor.ingest(DAY, period)
    assert outcome.status == "failed" and "startTime" in (outcome.error or ""), outcome.error
    assert "startTime" in harness.sink.dead_letters[0].reason


async def test_the_run_goes_on_after_a_huge_number_and_progress_matches_what_was_published(
    harness: Harness,
) -> None:
    bad = PERIODS[len(PERIODS) // 2]
    harness.sim.faults.add(
        FaultRule(kind="payload", period=bad, times=None, body=_body_with(bad, "volume", "-1e308"))
    )
    report = await ingest_periods_in_range(harness.ingestor, harness.progress, DAY, DAY, workers=4, now=NOW)
    assert not report.succeeded
    assert [(failure.settlement_date, failure.settlement_period) for failure in report.failures] == [
        (DAY, bad)
    ]
    assert report.days[0].published == len(settlement_periods(DAY)) - 1
    published = {
        (event.settlement_date, event.settlement_period): event.content_hash for event in harness.sink.events
    }
    ok = {key: row.content_hash for key, row in harness.progress.rows.items() if row.status == "ok"}
    assert ok == published
    assert harness.progress.rows[(DAY, bad)].status == "failed"


# --- the event schema itself: what a consumer reading the topic relies on ---


def _event_json(**changes: object) -> dict[str, Any]:
    record = {
        "bm_unit": "T_WHILW-1",
        "acceptance_id": 1,
        "bid_offer_pair_id": -1,
        "sequence_number": 1,
        "created_at": "2024-01-05T10:00:00Z",
        "volume_mwh": "-10.5",
        "original_price_gbp_per_mwh": "-40",
        "final_price_gbp_per_mwh": None,
        "cashflow_gbp": "420.0000",
        "so_flag": True,
        "cadl_flag": None,
    }
    record.update(changes)
    event = SettlementPeriodEvent.build(
        DAY, 3, (), fetched_at=datetime(2024, 1, 6, tzinfo=UTC), synthetic=True
    ).model_dump(mode="json")
    event["records"] = [record]
    return event


def _canonical_hash(event: dict[str, Any]) -> str:
    """The content hash by its definition (events.content_hash), computed from the JSON as given."""
    rows = sorted(json.dumps(record, sort_keys=True) for record in event["records"])
    return hashlib.sha256(("[" + ",".join(rows) + "]").encode()).hexdigest()


def test_a_sound_record_passes_the_event_schema() -> None:
    event = _event_json()
    parsed = SettlementPeriodEvent.model_validate_json(
        json.dumps({**event, "content_hash": _canonical_hash(event)})
    )
    assert parsed.records[0].volume_mwh < 0


@pytest.mark.parametrize(
    "change",
    [
        {"volume_mwh": "-1E+308"},
        {"volume_mwh": "-100000000"},
        {"volume_mwh": "-0.0000004"},
        {"original_price_gbp_per_mwh": "1E+30"},
        {"final_price_gbp_per_mwh": "-1E+30"},
        {"cashflow_gbp": "1E+13"},
        {"acceptance_id": 2**63},
        {"bid_offer_pair_id": 2**31},
        {"sequence_number": -(2**31) - 1},
        {"bm_unit": "T_X\x00"},
        {"bm_unit": "T_\x1b[31mX"},
        {"bm_unit": "X" * 200},
        {"created_at": "0001-01-01T00:00:00+14:00"},
        {"created_at": "9999-12-31T23:59:59-14:00"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_the_event_schema_refuses_what_no_column_can_store(change: dict[str, object]) -> None:
    event = _event_json(**change)
    with pytest.raises(ValidationError):
        SettlementPeriodEvent.model_validate_json(
            json.dumps({**event, "content_hash": _canonical_hash(event)})
        )
