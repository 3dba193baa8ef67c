"""Which settlement-stack rows are wind curtailment, and the records windhash keeps for them.

The rule: a row of Elexon's settlement stack (ISPSTACK) is wind curtailment when
1. it is in the **bid** stack: a bid is an instruction to generate less. The offer stack holds instructions to
   generate more, so it never contributes, and the ingestor does not fetch it;
2. its BM unit (`id`) is in the wind BM unit registry;
3. `soFlag` is true: the acceptance was for a system reason (constraints), not an energy balancing action;
4. `volume` < 0: energy not generated. A zero or positive volume on the bid side is not curtailment.
`cadlFlag` does not matter: it marks short (CADL) acceptances for *pricing*, but the farm still stopped and
was still paid, so such rows are kept and the flag is carried through (nullable, as Elexon gives it).

Each kept row becomes one `CurtailmentRecord`, keyed (BM unit, acceptance id, bid-offer pair id), with its
sequence number, created time, volume, original and final price, and its cashflow to the farm (volume ×
original price; windhash_common.money).

A row the rule cannot decide on (no BM unit id; a wind row without a volume or `soFlag`; a row of another
date, period or `startTime` than the one asked for) or a candidate missing what its record needs (acceptance
id, bid-offer pair id, sequence number, original price), or with a figure its record cannot hold (a volume,
price or created time past what the columns store: CurtailmentRecord's bounds), makes the whole period
invalid: a period is published complete or not at all, never with rows quietly dropped. Two
kept rows with one key make it invalid too, since summing or choosing between them would be a guess.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, TypeGuard

import jiter
from pydantic import TypeAdapter, ValidationError
from windhash_common.events import PRICE_GBP_PER_MWH_LIMIT, VOLUME_MWH_LIMIT, CurtailmentRecord
from windhash_common.money import cashflow_to_farm_gbp, curtailed_energy_mwh
from windhash_common.settlement_calendar import period_start_utc

StackSide = Literal["bid", "offer"]
Row = dict[str, Any]

# jiter keeps each JSON fraction as its text (LosslessFloat), made a Decimal only where a kept record needs
# it: a stack holds ~170 rows x 12 numbers of which ~30 rows x 3 are used. json.loads(parse_float=Decimal)
# made every one a Decimal: parse_stack_payload took 0.46-0.57 ms of CPU per period against 0.36-0.39 ms
# (480 synthetic January stacks of ~31 KB, three runs each). Integers stay int either way.
_NUMBER_TYPES = (int, Decimal, jiter.LosslessFloat)
# A period's records are validated in one call (the same checks as CurtailmentRecord(...) per row, less
# per-call overhead).
_RECORDS = TypeAdapter(list[CurtailmentRecord])
_IDENTITY = ("acceptanceId", "bidOfferPairId", "sequenceNumber")


class InvalidStackPayload(Exception):
    """A payload that cannot be turned into a complete period; the message is the reason recorded."""


@dataclass(frozen=True)
class StackPayload:
    rows: list[Row]
    synthetic: bool


def parse_stack_payload(body: bytes) -> StackPayload:
    """The rows of a settlement-stack response; numbers exact (fractions as jiter's LosslessFloat, which
    `_number` turns into the Decimal of the same digits)."""
    try:
        # UTF-8, -16 or -32 as the bytes say, NaN and Infinity read (what json.loads accepts); `_number`
        # turns those two away where a number is needed.
        encoding = json.detect_encoding(body)
        utf8 = body if encoding == "utf-8" else body.decode(encoding).encode()
        document = jiter.from_json(utf8, float_mode="lossless-float")
    except (ValueError, UnicodeError) as error:
        raise InvalidStackPayload(f"malformed JSON: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise InvalidStackPayload("the response has no `data` array")
    rows = document["data"]
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidStackPayload(f"row {index} is not an object")
    metadata = document.get("metadata")
    synthetic = isinstance(metadata, dict) and metadata.get("synthetic") is True
    return StackPayload(rows=rows, synthetic=synthetic)


def is_wind_curtailment(row: Row, wind_units: frozenset[str], side: StackSide = "bid") -> bool:
    """The rule itself, for a row whose `id`, `volume` and `soFlag` are known to be well formed."""
    return side == "bid" and row["id"] in wind_units and row["soFlag"] is True and row["volume"] < 0


def curtailment_records(
    rows: list[Row],
    wind_units: frozenset[str],
    settlement_date: date,
    settlement_period: int,
    side: StackSide = "bid",
) -> tuple[CurtailmentRecord, ...]:
    """The period's wind curtailment records, or InvalidStackPayload saying which row is wrong and why.

    Every row is checked as far as the rule needs to decide on it; only the kept rows become records. When
    several rows are wrong, the first of them in the stack is the one named."""
    if side != "bid":
        return ()
    day = settlement_date.isoformat()
    start = PeriodStart(period_start_utc(settlement_date, settlement_period))
    fields: list[dict[str, Any]] = []  # the kept rows' record fields, in stack order
    indices: list[int] = []  # and their row numbers
    try:
        for index, row in enumerate(rows):
            unit = row.get("id")
            if not isinstance(unit, str) or not unit:
                raise InvalidStackPayload(f"row {index}: no BM unit id")
            if "settlementDate" in row and row["settlementDate"] != day:
                raise InvalidStackPayload(
                    f"row {index} ({unit}): settlementDate {row['settlementDate']!r} was not asked for"
                )
            if "settlementPeriod" in row and row["settlementPeriod"] != settlement_period:
                raise InvalidStackPayload(
                    f"row {index} ({unit}): settlementPeriod {row['settlementPeriod']!r} was not asked for"
                )
            if "startTime" in row and not start.matches(row["startTime"]):
                raise InvalidStackPayload(
                    f"row {index} ({unit}): startTime {row['startTime']!r} is not when period "
                    f"{settlement_period} of {day} starts ({start.text})"
                )
            if unit not in wind_units:
                continue
            volume = _number(row.get("volume"))
            if volume is None:
                raise InvalidStackPayload(f"row {index} ({unit}): wind row without a numeric volume")
            if volume < 0:
                so_flag = row.get("soFlag")
                if not isinstance(so_flag, bool):
                    raise InvalidStackPayload(f"row {index} ({unit}): wind bid without a soFlag")
                if so_flag:  # the rule (is_wind_curtailment): a wind bid, system flagged, volume < 0
                    fields.append(_record_fields(index, unit, row, volume))
                    indices.append(index)
    except InvalidStackPayload:
        _validated(fields, indices)  # a kept row before the wrong one may fail its record first
        raise
    records = _validated(fields, indices)
    keys = [(record.bm_unit, record.acceptance_id, record.bid_offer_pair_id) for record in records]
    if len(set(keys)) != len(keys):
        duplicate = next(key for key in keys if keys.count(key) > 1)
        raise InvalidStackPayload(f"two rows share the record key (bm_unit, acceptance, pair) {duplicate}")
    return tuple(records)


def period_energy_mwh(records: tuple[CurtailmentRecord, ...]) -> Decimal:
    return sum((curtailed_energy_mwh(record.volume_mwh) for record in records), Decimal(0))


def _number(value: object) -> Decimal | None:
    """The exact value of a JSON number (int, fraction kept as text, or Decimal); None for anything else,
    NaN and the infinities included."""
    if type(value) is jiter.LosslessFloat:  # what a fraction parses to: the common case, checked first
        number = value.as_decimal()
    elif isinstance(value, bool) or not isinstance(value, _NUMBER_TYPES):
        return None
    else:
        number = value.as_decimal() if isinstance(value, jiter.LosslessFloat) else Decimal(value)
    return number if number.is_finite() else None


def _is_int(value: object) -> TypeGuard[int]:
    return type(value) is int or (isinstance(value, int) and not isinstance(value, bool))


def _record_fields(index: int, unit: str, row: Row, volume: Decimal) -> dict[str, Any]:
    acceptance_id = row.get("acceptanceId")
    pair_id = row.get("bidOfferPairId")
    sequence_number = row.get("sequenceNumber")
    if not (_is_int(acceptance_id) and _is_int(pair_id) and _is_int(sequence_number)):
        name = next(name for name in _IDENTITY if not _is_int(row.get(name)))
        raise InvalidStackPayload(f"row {index} ({unit}): curtailment row without an integer {name}")
    original_price = _number(row.get("originalPrice"))
    if original_price is None:
        raise InvalidStackPayload(f"row {index} ({unit}): curtailment row without an originalPrice")
    given_final_price = row.get("finalPrice")
    final_price = None if given_final_price is None else _number(given_final_price)
    if final_price is None and given_final_price is not None:
        raise InvalidStackPayload(f"row {index} ({unit}): finalPrice is not a number")
    # Bounded before the cashflow is computed: a product of two huge numbers cannot be rounded to the penny
    # (decimal.InvalidOperation). The record's own bounds (CurtailmentRecord) check the rest.
    if volume <= -VOLUME_MWH_LIMIT:
        raise InvalidStackPayload(f"row {index} ({unit}): volume {volume} MWh is past ±{VOLUME_MWH_LIMIT}")
    if not -PRICE_GBP_PER_MWH_LIMIT < original_price < PRICE_GBP_PER_MWH_LIMIT:
        raise InvalidStackPayload(
            f"row {index} ({unit}): originalPrice {original_price} £/MWh is past ±{PRICE_GBP_PER_MWH_LIMIT}"
        )
    return {
        "bm_unit": unit,
        "acceptance_id": acceptance_id,
        "bid_offer_pair_id": pair_id,
        "sequence_number": sequence_number,
        "created_at": row.get("createdDateTime"),
        "volume_mwh": volume,
        "original_price_gbp_per_mwh": original_price,
        "final_price_gbp_per_mwh": final_price,
        "cashflow_gbp": cashflow_to_farm_gbp(volume, original_price),
        "so_flag": True,
        "cadl_flag": row.get("cadlFlag"),
    }


def _validated(fields: list[dict[str, Any]], indices: list[int]) -> list[CurtailmentRecord]:
    try:
        return _RECORDS.validate_python(fields)
    except ValidationError as error:
        first = error.errors()[0]
        position = int(first["loc"][0])  # the list's index: one item per kept row
        unit = fields[position]["bm_unit"]
        field = ".".join(str(part) for part in first["loc"][1:2])
        raise InvalidStackPayload(f"row {indices[position]} ({unit}): {field}: {first['msg']}") from error


class PeriodStart:
    """When a period starts, and whether a row's `startTime` says the same instant: the text Elexon writes
    (…T08:00:00Z) is compared first, any other spelling of the instant is parsed."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.text = start.strftime("%Y-%m-%dT%H:%M:%SZ")

    def matches(self, value: object) -> bool:
        if value == self.text:
            return True
        if not isinstance(value, str):
            return False
        try:
            given = datetime.fromisoformat(value)
        except ValueError:
            return False
        return given.tzinfo is not None and given == self.start
