"""Deciding whether a raw Kafka message is a settlement-period event the calculator can store.

Anything it cannot accept becomes a `DeadLetter` (reason + raw payload + source position) instead of blocking
the partition. Besides the schema, an event must fit the columns it is stored in: a value PostgreSQL would
reject would otherwise stop the service on every replay.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from pydantic import ValidationError
from windhash_common.events import MAX_PERIODS_IN_DAY, CurtailmentRecord, DeadLetter, SettlementPeriodEvent

from windhash_calculator.calculation_rows import VOLUME_PRECISION, quantize

SERVICE = "calculator"
# Largest magnitudes of the curtailment_records columns (numeric(14,6), numeric(12,4), numeric(16,4)).
_VOLUME_LIMIT = Decimal("1e8")
_PRICE_LIMIT = Decimal("1e8")
_CASHFLOW_LIMIT = Decimal("1e12")
_INT32 = 2**31
_INT64 = 2**63
# A dead letter keeps at most this much of an oversized payload: enough to identify it.
_PAYLOAD_KEEP_BYTES = 65_536


@dataclass(frozen=True)
class ConsumedMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True)
class Rejection:
    kind: str  # a short, bounded label (the dead-letter metric's label)
    detail: str


def decode_event(value: bytes | None, max_bytes: int) -> SettlementPeriodEvent | Rejection:
    if value is None:
        return Rejection("empty", "message has no value")
    if len(value) > max_bytes:
        return Rejection("oversized", f"message is {len(value)} bytes, the limit is {max_bytes}")
    try:
        event = SettlementPeriodEvent.model_validate_json(value)
    except ValidationError as error:
        kind = "invalid_json" if any(e["type"] == "json_invalid" for e in error.errors()) else "schema"
        return Rejection(kind, _first_lines(str(error)))
    problem = storage_problem(event)
    return Rejection("unstorable", problem) if problem else event


def storage_problem(event: SettlementPeriodEvent) -> str | None:
    for record in event.records:
        problem = _record_problem(record)
        if problem:
            return f"record {record.key}: {problem}"
    return None


def _record_problem(record: CurtailmentRecord) -> str | None:
    # Runs for every record of every message: plain chained comparisons, no abs() or generator per value.
    if "\x00" in record.bm_unit:
        return "bm_unit contains a NUL character"
    if not -_INT64 <= record.acceptance_id < _INT64:
        return "acceptance_id out of bigint range"
    if not (-_INT32 <= record.bid_offer_pair_id < _INT32 and -_INT32 <= record.sequence_number < _INT32):
        return "bid_offer_pair_id or sequence_number out of integer range"
    volume = record.volume_mwh
    if not -_VOLUME_LIMIT < volume < _VOLUME_LIMIT:
        return f"volume {volume} MWh out of range"
    if stored_volume(volume) >= 0:
        return f"volume {volume} MWh rounds to zero at 6 decimal places"
    final_price = record.final_price_gbp_per_mwh
    if not -_PRICE_LIMIT < record.original_price_gbp_per_mwh < _PRICE_LIMIT or (
        final_price is not None and not -_PRICE_LIMIT < final_price < _PRICE_LIMIT
    ):
        return "price out of range"
    if not -_CASHFLOW_LIMIT < record.cashflow_gbp < _CASHFLOW_LIMIT:
        return "cashflow out of range"
    return None


def stored_volume(volume_mwh: Decimal) -> Decimal:
    return quantize(volume_mwh, VOLUME_PRECISION)


def dead_letter(message: ConsumedMessage, rejection: Rejection, failed_at: datetime) -> DeadLetter:
    raw = message.value or b""
    kept = raw[:_PAYLOAD_KEEP_BYTES]
    payload = kept.decode("utf-8", errors="replace").replace("\x00", "\ufffd")  # jsonb cannot hold NUL
    if len(raw) > len(kept):
        payload += f"\n[truncated: {len(raw)} bytes in all]"
    settlement_date, settlement_period = period_of_key(message.key)
    return DeadLetter(
        service=SERVICE,
        settlement_date=settlement_date,
        settlement_period=settlement_period,
        reason=f"{rejection.kind}: {rejection.detail}",
        source_topic=message.topic,
        source_partition=message.partition,
        source_offset=message.offset,
        payload=payload,
        failed_at=failed_at,
    )


def period_of_key(key: bytes | None) -> tuple[date | None, int | None]:
    """Best effort: the (date, period) a `YYYY-MM-DD/PP` key names, so a dead letter can be found."""
    try:
        day, period = (key or b"").decode().split("/")
        number = int(period)
        return date.fromisoformat(day), number if 1 <= number <= MAX_PERIODS_IN_DAY else None
    except ValueError:
        return None, None


def _first_lines(text: str, limit: int = 1000) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
