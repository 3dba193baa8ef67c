import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from windhash_calculator.crash_points import CrashPoints
from windhash_common.consumer_runtime.messages import ConsumedMessage
from windhash_common.curtailment_facts.event_checks import decode_settlement_period
from windhash_common.curtailment_facts.write_path import difficulty_dates, newest_snapshots
from windhash_common.dead_letters import Rejection, Source, dead_letter, settlement_of_key
from windhash_common.events import CurtailmentRecord, SettlementPeriodEvent

FETCHED = datetime(2024, 5, 1, tzinfo=UTC)
LIMIT = 100_000


def record(volume: str = "-10", acceptance_id: int = 1) -> CurtailmentRecord:
    return CurtailmentRecord(
        bm_unit="T_A-1",
        acceptance_id=acceptance_id,
        bid_offer_pair_id=-1,
        sequence_number=1,
        created_at=None,
        volume_mwh=Decimal(volume),
        original_price_gbp_per_mwh=Decimal(-40),
        final_price_gbp_per_mwh=None,
        cashflow_gbp=Decimal(volume) * -40,
        so_flag=True,
        cadl_flag=None,
    )


def event(period: int = 5, fetched: datetime = FETCHED, *records: CurtailmentRecord) -> SettlementPeriodEvent:
    return SettlementPeriodEvent.build(date(2024, 5, 1), period, records, fetched, synthetic=True)


def unchecked_event(volume: str) -> bytes:
    """An event's JSON with a record the schema refuses, as a producer that skipped its checks sends it."""
    valid = event(5, FETCHED, record()).model_dump(mode="json")
    valid["records"][0]["volume_mwh"] = volume
    return json.dumps(valid).encode()


def message(value: bytes | None, offset: int = 0, partition: int = 0) -> ConsumedMessage:
    return ConsumedMessage("t.settlement-periods.v1", partition, offset, b"2024-05-01/05", value)


def test_a_valid_event_is_accepted() -> None:
    valid = event(5, FETCHED, record())
    assert decode_settlement_period(valid.model_dump_json().encode(), LIMIT) == valid


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (None, "empty"),
        (b"x" * (LIMIT + 1), "oversized"),
        (b"{not json", "invalid_json"),
        (b'{"settlement_date": "2024-05-01"}', "schema"),
        (
            event(5, FETCHED, record())
            .model_dump_json()
            .replace('"content_hash":"', '"content_hash":"0')
            .encode(),
            "schema",
        ),
        # Past what the columns store: refused by the event schema itself (windhash_common.events bounds).
        (unchecked_event(volume="-100000000"), "schema"),
        (unchecked_event(volume="-0.0000004"), "schema"),
    ],
)
def test_what_cannot_be_stored_is_rejected_with_a_reason(value: bytes | None, kind: str) -> None:
    outcome = decode_settlement_period(value, LIMIT)
    assert isinstance(outcome, Rejection)
    assert outcome.kind == kind
    assert outcome.detail


def test_a_dead_letter_keeps_the_payload_and_where_it_came_from() -> None:
    raw = b"\x00bad \xff" + b"y" * 70_000
    consumed = message(raw, offset=41, partition=2)
    source = Source(consumed.topic, consumed.partition, consumed.offset, consumed.key)
    letter = dead_letter("calculator", Rejection("invalid_json", "boom"), consumed.value, FETCHED, source)
    assert (letter.source_partition, letter.source_offset, letter.reason) == (2, 41, "invalid_json: boom")
    assert letter.payload.startswith("\ufffdbad \ufffd")  # NUL and invalid UTF-8 replaced
    assert letter.payload.endswith(f"[truncated: {len(raw)} bytes in all]")
    assert (letter.settlement_date, letter.settlement_period) == (date(2024, 5, 1), 5)


def test_the_settlement_of_a_key_is_best_effort() -> None:
    assert settlement_of_key(b"2024-05-01/07") == (date(2024, 5, 1), 7)
    assert settlement_of_key(b"2024-05-01") == (date(2024, 5, 1), None)
    assert settlement_of_key(b"junk") == (None, None)
    assert settlement_of_key(None) == (None, None)


def test_the_newest_snapshot_of_a_period_wins_within_a_batch() -> None:
    older, newer = event(5, FETCHED, record("-1")), event(5, FETCHED + timedelta(hours=1), record("-2"))
    same_time = event(5, FETCHED + timedelta(hours=1), record("-3"))
    decoded = [
        decode_settlement_period(m.model_dump_json().encode(), LIMIT) for m in (newer, older, same_time)
    ]
    events = [item for item in decoded if isinstance(item, SettlementPeriodEvent)]
    assert newest_snapshots(events) == {(date(2024, 5, 1), 5): same_time}  # a tie goes to the later message
    # Period 5 of 2024-05-01 (BST) starts at 23:00 UTC the day before + 4 × 30 min = 01:00 UTC on the 1st.
    assert difficulty_dates(events) == {date(2024, 5, 1)}


def test_crash_points_are_parsed_strictly() -> None:
    with pytest.raises(ValueError):
        CrashPoints("somewhere:1")
    CrashPoints(None).reached("mid_batch")  # unset: nothing happens
    CrashPoints("after_db_commit:2").reached("mid_batch")  # another point: nothing happens
