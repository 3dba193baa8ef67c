from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError
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
