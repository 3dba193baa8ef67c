"""Deciding whether a settlement-period message is an event the calculator can store.

The event schema is the whole decision: every field of `windhash_common.events` is bounded by the column
that stores it, so a message that validates can be written, and one that cannot be written is a `schema`
rejection (dead-lettered; a value PostgreSQL would reject must never stop the calculator on every replay).
Reconciliation reads the topic with the same decision, so it never replays what the calculator
dead-lettered.
"""

from windhash_common.consumer_runtime.messages import decode_json_model
from windhash_common.dead_letters import Rejection
from windhash_common.events import SettlementPeriodEvent

# Larger than any real period (a few hundred records); anything bigger is dead-lettered, not parsed.
DEFAULT_MAX_MESSAGE_BYTES = 1_048_576


def decode_settlement_period(
    value: bytes | None, max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
) -> SettlementPeriodEvent | Rejection:
    return decode_json_model(SettlementPeriodEvent, value, max_bytes)
