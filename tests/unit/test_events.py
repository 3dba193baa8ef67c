import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from windhash_common import events
from windhash_common.events import CurtailmentRecord, SettlementPeriodEvent, content_hash, period_key

FETCHED = datetime(2024, 3, 31, 12, tzinfo=UTC)


def record(bm_unit: str = "T_WHILW-1", acceptance_id: int = 1, volume: str = "-10") -> CurtailmentRecord:
    return CurtailmentRecord(
        bm_unit=bm_unit,
        acceptance_id=acceptance_id,
        bid_offer_pair_id=-1,
        sequence_number=1,
        created_at=FETCHED,
        volume_mwh=Decimal(volume),
        original_price_gbp_per_mwh=Decimal("-50"),
        final_price_gbp_per_mwh=None,
        cashflow_gbp=Decimal(volume) * Decimal("-50"),
        so_flag=True,
        cadl_flag=False,
    )


def test_content_hash_ignores_record_order() -> None:
    first, second = record(acceptance_id=1), record(acceptance_id=2)
    assert content_hash((first, second)) == content_hash((second, first))
    assert content_hash((first,)) != content_hash((second,))


def plain_content_hash(records: tuple[CurtailmentRecord, ...]) -> str:
    """The content hash by its definition: the text that `content_hash` writes directly."""
    rows = sorted(json.dumps(record.model_dump(mode="json"), sort_keys=True) for record in records)
    return hashlib.sha256(("[" + ",".join(rows) + "]").encode()).hexdigest()


PINNED_RECORDS = (
    record(),
    record(acceptance_id=2, volume="-1.250").model_copy(
        update={"cadl_flag": None, "final_price_gbp_per_mwh": Decimal("-49.90")}
    ),
)


def test_content_hash_is_pinned() -> None:
    # Published hashes are compared with later re-fetches: the value for the same records must never change.
    assert content_hash(PINNED_RECORDS) == plain_content_hash(PINNED_RECORDS)
    assert content_hash(PINNED_RECORDS) == (
        "a501d65fd54773cf0c9efbff270fa5364870c029463a629022c7f720b444b69d"  # computed before the rewrite
    )


ZONES = [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-3, minutes=-30, seconds=-15)),
         ZoneInfo("Europe/London")]  # fmt: skip
# Every value the record's bounds allow (events.py), written as awkwardly as possible.
prices = st.decimals(min_value=Decimal("-99999999.9999"), max_value=Decimal("99999999.9999"), places=None)
cashflows = st.decimals(min_value=Decimal("-1e12") + 1, max_value=Decimal("1e12") - 1, places=None)
negative_decimals = st.decimals(
    min_value=Decimal("-99999999.999999"), max_value=Decimal("-0.0000006"), places=None
)
times = st.one_of(
    st.none(),
    st.datetimes(
        min_value=datetime(2001, 1, 2), max_value=datetime(2099, 12, 30), timezones=st.sampled_from(ZONES)
    ),
    st.datetimes(
        min_value=datetime(2001, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
    ).map(lambda value: value.replace(microsecond=0)),
)
int32 = st.integers(-(2**31), 2**31 - 1)
records_strategy = st.builds(
    CurtailmentRecord,
    bm_unit=st.text(st.characters(exclude_categories=["Cc", "Cs"]), min_size=1, max_size=12),
    acceptance_id=st.integers(-(2**63), 2**63 - 1),
    bid_offer_pair_id=int32,
    sequence_number=int32,
    created_at=times,
    volume_mwh=negative_decimals,
    original_price_gbp_per_mwh=prices,
    final_price_gbp_per_mwh=st.none() | prices,
    cashflow_gbp=cashflows,
    so_flag=st.booleans(),
    cadl_flag=st.none() | st.booleans(),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(records_strategy, max_size=4))
def test_content_hash_is_the_hash_of_the_canonical_json(records: list[CurtailmentRecord]) -> None:
    assert content_hash(tuple(records)) == plain_content_hash(tuple(records))
    for item in records:
        assert events.canonical_record_text(item) == json.dumps(item.model_dump(mode="json"), sort_keys=True)


def test_build_computes_the_hash_once_and_the_wire_checks_it(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def counted(records: tuple[CurtailmentRecord, ...]) -> str:
        calls.append(len(records))
        return content_hash(records)

    monkeypatch.setattr(events, "content_hash", counted)
    event = SettlementPeriodEvent.build(date(2024, 5, 1), 1, PINNED_RECORDS, FETCHED, synthetic=False)
    assert calls == [2]
    assert SettlementPeriodEvent.model_validate_json(event.model_dump_json()) == event
    assert calls == [2, 2]


def test_a_wrong_hash_from_the_wire_is_rejected() -> None:
    event = SettlementPeriodEvent.build(date(2024, 5, 1), 1, PINNED_RECORDS, FETCHED, synthetic=False)
    data = event.model_dump(mode="json")
    data["content_hash"] = "0" * 64
    with pytest.raises(ValidationError, match="content_hash"):
        SettlementPeriodEvent.model_validate_json(json.dumps(data))


def test_event_round_trips_through_json() -> None:
    event = SettlementPeriodEvent.build(date(2024, 3, 31), 46, (record(),), FETCHED, synthetic=True)
    assert SettlementPeriodEvent.model_validate_json(event.model_dump_json()) == event
    assert event.period_start_utc == datetime(2024, 3, 31, 22, 30, tzinfo=UTC)
    assert event.kafka_key == period_key(date(2024, 3, 31), 46) == b"2024-03-31/46"


def test_period_47_does_not_exist_on_the_spring_clock_change() -> None:
    with pytest.raises(ValueError, match="periods 1 to 46"):
        SettlementPeriodEvent.build(date(2024, 3, 31), 47, (), FETCHED, synthetic=True)


def test_tampered_records_fail_the_hash_check() -> None:
    event = SettlementPeriodEvent.build(date(2024, 5, 1), 1, (record(),), FETCHED, synthetic=False)
    data = event.model_dump(mode="json")
    data["records"][0]["volume_mwh"] = "-11"
    with pytest.raises(ValidationError, match="content_hash"):
        SettlementPeriodEvent.model_validate(data)


def test_duplicate_record_identity_is_rejected() -> None:
    with pytest.raises(ValidationError, match="share"):
        SettlementPeriodEvent.build(date(2024, 5, 1), 1, (record(), record()), FETCHED, synthetic=False)


def test_curtailment_record_needs_a_negative_volume() -> None:
    with pytest.raises(ValidationError):
        record(volume="5")
