import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from windhash_ingestor.curtailment_rule import (
    InvalidStackPayload,
    curtailment_records,
    is_wind_curtailment,
    parse_stack_payload,
    period_energy_mwh,
)

DAY = date(2024, 1, 5)
PERIOD = 7
WIND = frozenset({"T_SGRWO-1", "T_WHILW-1"})


def row(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "settlementDate": DAY.isoformat(),
        "settlementPeriod": PERIOD,
        "startTime": "2024-01-05T03:00:00Z",
        "createdDateTime": "2024-01-05T03:47:00Z",
        "sequenceNumber": 4,
        "id": "T_SGRWO-1",
        "acceptanceId": 1234,
        "bidOfferPairId": -1,
        "cadlFlag": False,
        "soFlag": True,
        "originalPrice": Decimal("-62.5"),
        "finalPrice": Decimal("-62.5"),
        "volume": Decimal("-12.345"),
    }
    base.update(changes)
    return base


def records(*rows: dict[str, Any]) -> tuple[Any, ...]:
    return curtailment_records(list(rows), WIND, DAY, PERIOD)


def test_a_system_flagged_wind_bid_is_kept_with_its_identity_values_and_cashflow() -> None:
    (record,) = records(row())
    assert record.key == ("T_SGRWO-1", 1234, -1)
    assert record.sequence_number == 4
    assert record.created_at == datetime(2024, 1, 5, 3, 47, tzinfo=UTC)
    assert record.volume_mwh == Decimal("-12.345")
    assert record.original_price_gbp_per_mwh == Decimal("-62.5")
    assert record.final_price_gbp_per_mwh == Decimal("-62.5")
    # The farm bid −£62.50/MWh: the system operator paid it to stop.
    assert record.cashflow_gbp == Decimal("771.5625")
    assert record.so_flag is True


@pytest.mark.parametrize(
    "excluded",
    [
        row(id="T_DRAXX-1"),  # not a wind unit
        row(id="T_GRAI-6", soFlag=True),
        row(soFlag=False),  # an energy balancing action, not a constraint
        row(volume=Decimal("3.2")),  # positive volume
        row(volume=Decimal("0")),
    ],
)
def test_rows_that_are_not_wind_curtailment_are_left_out(excluded: dict[str, Any]) -> None:
    assert records(excluded) == ()
    assert not is_wind_curtailment(excluded, WIND)


def test_the_offer_stack_never_contributes() -> None:
    assert curtailment_records([row()], WIND, DAY, PERIOD, side="offer") == ()
    assert not is_wind_curtailment(row(), WIND, side="offer")


@pytest.mark.parametrize("cadl", [True, False, None])
def test_cadl_flag_does_not_change_the_decision_and_is_carried(cadl: bool | None) -> None:
    (record,) = records(row(cadlFlag=cadl))
    assert record.cadl_flag is cadl


def test_several_acceptances_of_one_unit_stay_separate_records() -> None:
    kept = records(
        row(acceptanceId=1, bidOfferPairId=-1),
        row(acceptanceId=1, bidOfferPairId=-2, volume=Decimal("-1")),
        row(acceptanceId=2, bidOfferPairId=-1, volume=Decimal("-2")),
        row(id="T_WHILW-1", acceptanceId=1, volume=Decimal("-3")),
    )
    assert len(kept) == 4
    assert period_energy_mwh(kept) == Decimal("18.345")


def test_final_price_and_created_time_may_be_null() -> None:
    (record,) = records(row(finalPrice=None, createdDateTime=None))
    assert record.final_price_gbp_per_mwh is None
    assert record.created_at is None


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (row(id=None), "no BM unit id"),
        ({k: v for k, v in row(id="T_DRAXX-1").items() if k != "id"}, "no BM unit id"),
        (row(volume=None), "numeric volume"),
        ({k: v for k, v in row().items() if k != "volume"}, "numeric volume"),
        (row(soFlag=None), "soFlag"),
        (row(acceptanceId=None), "acceptanceId"),
        ({k: v for k, v in row().items() if k != "bidOfferPairId"}, "bidOfferPairId"),
        (row(sequenceNumber="4"), "sequenceNumber"),
        (row(originalPrice=None), "originalPrice"),
        (row(finalPrice="n/a"), "finalPrice"),
        (row(settlementPeriod=PERIOD + 1), "settlementPeriod"),
        (row(settlementDate="2024-01-06"), "settlementDate"),
        (row(createdDateTime="not a time"), "row 1"),
    ],
)
def test_an_undecidable_or_unrecordable_row_invalidates_the_period(bad: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidStackPayload, match=reason):
        records(row(acceptanceId=99), bad)


def test_missing_fields_on_rows_that_are_not_candidates_do_not_matter() -> None:
    non_wind = {k: v for k, v in row(id="T_DRAXX-1").items() if k not in ("volume", "soFlag", "acceptanceId")}
    positive = row(soFlag=None, volume=Decimal("2"), acceptanceId=None)
    energy_flagged = row(soFlag=False, acceptanceId=None, originalPrice=None)
    assert records(non_wind, positive, energy_flagged) == ()


def test_two_rows_with_one_record_key_invalidate_the_period() -> None:
    with pytest.raises(InvalidStackPayload, match="share the record key"):
        records(row(), row(sequenceNumber=9))


def test_payload_parsing_keeps_decimals_exact_and_reads_the_synthetic_label() -> None:
    # Fractions a binary float cannot hold: the records get the JSON's digits exactly.
    numbers = {"volume": "-0.1000000000000000055511", "originalPrice": "-45.67", "finalPrice": "1e-8"}
    text = json.dumps(row(**dict.fromkeys(numbers)))
    for name, number in numbers.items():
        text = text.replace(f'"{name}": null', f'"{name}": {number}')
    body = ('{"data":[' + text + '],"metadata":{"synthetic":true}}').encode()
    payload = parse_stack_payload(body)
    (record,) = curtailment_records(payload.rows, WIND, DAY, PERIOD)
    assert str(record.volume_mwh) == "-0.1000000000000000055511"
    assert str(record.original_price_gbp_per_mwh) == "-45.67"
    assert record.final_price_gbp_per_mwh == Decimal("1E-8")
    assert payload.synthetic is True
    assert parse_stack_payload(b'{"data":[],"metadata":{"datasets":["ISPSTACK"]}}').synthetic is False


@pytest.mark.parametrize(
    "body",
    [
        b'{"data":[{"id":',
        b"",
        b"\xff\xfe",
        b"[]",
        b'{"data":null}',
        b'{"data":[1]}',
        b'{"rows":[]}',
    ],
)
def test_malformed_payloads_are_rejected(body: bytes) -> None:
    with pytest.raises(InvalidStackPayload):
        parse_stack_payload(body)


def test_when_several_rows_are_wrong_the_first_in_the_stack_is_named() -> None:
    # Kept rows' records are validated together after the scan; the error still names the first wrong row.
    with pytest.raises(InvalidStackPayload, match=r"^row 0 \(T_SGRWO-1\): .*datetime"):
        records(row(createdDateTime="not a time"), row(id=None))
    with pytest.raises(InvalidStackPayload, match=r"^row 1 \(T_WHILW-1\): .*datetime"):
        records(
            row(acceptanceId=1),
            row(id="T_WHILW-1", acceptanceId=2, createdDateTime="not a time"),
            row(acceptanceId=3, cadlFlag="maybe"),
        )
    with pytest.raises(InvalidStackPayload, match=r"^row 1: no BM unit id"):
        records(row(acceptanceId=1), row(id=None), row(acceptanceId=3, createdDateTime="not a time"))


@pytest.mark.parametrize("number", [b"NaN", b"-Infinity", b'"-1.5"', b"null"])
def test_a_volume_that_is_not_a_finite_number_invalidates_the_period(number: bytes) -> None:
    body = b'{"data":[{"id":"T_SGRWO-1","soFlag":true,"volume":' + number + b"}]}"
    with pytest.raises(InvalidStackPayload, match="without a numeric volume"):
        curtailment_records(parse_stack_payload(body).rows, WIND, DAY, PERIOD)


def test_payloads_in_utf16_parse_like_utf8() -> None:
    # json.loads accepts UTF-8, -16 and -32 by their bytes; so does the ingestor.
    text = '{"data":[],"metadata":{"synthetic":true}}'
    for encoding in ("utf-8", "utf-8-sig", "utf-16", "utf-32"):
        assert parse_stack_payload(text.encode(encoding)).synthetic is True
