"""Deciding whether a settlement-period message is an event the calculator can store.

Besides the schema, an event must fit the columns it is stored in: a value PostgreSQL would reject would
otherwise stop the calculator on every replay. Reconciliation reads the topic with the same decision, so it
never replays what the calculator dead-lettered.
"""

from decimal import Decimal

from windhash_common.consumer_runtime.messages import decode_json_model
from windhash_common.curtailment_facts.rows import VOLUME_PRECISION
from windhash_common.dead_letters import Rejection
from windhash_common.events import CurtailmentRecord, SettlementPeriodEvent
from windhash_common.money import round_half_even

# Largest magnitudes of the curtailment_records columns (numeric(14,6), numeric(12,4), numeric(16,4)).
_VOLUME_LIMIT = Decimal("1e8")
_PRICE_LIMIT = Decimal("1e8")
_CASHFLOW_LIMIT = Decimal("1e12")
_INT32 = 2**31
_INT64 = 2**63
# Larger than any real period (a few hundred records); anything bigger is dead-lettered, not parsed.
DEFAULT_MAX_MESSAGE_BYTES = 1_048_576


def decode_settlement_period(
    value: bytes | None, max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
) -> SettlementPeriodEvent | Rejection:
    return decode_json_model(SettlementPeriodEvent, value, max_bytes, storage_problem)


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
    return round_half_even(volume_mwh, VOLUME_PRECISION)
