"""The events the ingestor publishes for the synthetic simulator's stacks, pinned byte for byte.

A re-fetch is compared with the last publish by its content hash, and the calculator stores what the event's
JSON says: a faster parse, rule, event build or decode must leave both exactly as they were. The digests were
computed with the code before the #24 round-2 changes (main at 422c682).
"""

import hashlib
import json
from datetime import UTC, date, datetime

from pydantic_core import to_json
from windhash_common.curtailment_facts.event_checks import decode_settlement_period
from windhash_common.events import SettlementPeriodEvent
from windhash_common.settlement_calendar import settlement_periods
from windhash_elexon_sim.generator import DEFAULT_SEED, shared_stack
from windhash_elexon_sim.units import wind_unit_ids
from windhash_ingestor.curtailment_rule import curtailment_records, parse_stack_payload

FETCHED_AT = datetime(2024, 12, 31, 12, tzinfo=UTC)
# A windy winter day, the 46-period spring day and the 50-period autumn day.
DAYS = (date(2024, 1, 8), date(2024, 3, 31), date(2024, 10, 27))
PINNED_EVENTS_DIGEST = "0e32a55ce084cb43bf82b96859df61f19aa09dc3aff1694edff519019b552b91"
PINNED_HASHES_DIGEST = "dbdf120db38416ac7b41260a2818581e840abbc37f80df51bea1aefe0a947e23"
PINNED_RECORD_COUNT = 1279


def simulator_events() -> list[SettlementPeriodEvent]:
    units = wind_unit_ids()
    built = []
    for day in DAYS:
        for period in settlement_periods(day):
            rows = shared_stack(day, period, "bid", 0, DEFAULT_SEED)
            body = to_json({"data": rows, "metadata": {"datasets": ["ISPSTACK"], "synthetic": True}})
            payload = parse_stack_payload(body)
            records = curtailment_records(payload.rows, units, day, period)
            built.append(SettlementPeriodEvent.build(day, period, records, FETCHED_AT, payload.synthetic))
    return built


def plain_content_hash(event: SettlementPeriodEvent) -> str:
    """The content hash by its definition (events.content_hash writes the same text directly)."""
    rows = sorted(json.dumps(record.model_dump(mode="json"), sort_keys=True) for record in event.records)
    return hashlib.sha256(("[" + ",".join(rows) + "]").encode()).hexdigest()


def test_the_simulator_days_publish_the_pinned_bytes_and_hashes_and_decode_back_equal() -> None:
    events = simulator_events()
    values = [SettlementPeriodEvent.__pydantic_serializer__.to_json(event) for event in events]
    hashes = "\n".join(event.content_hash for event in events).encode()
    assert len(events) == 48 + 46 + 50
    assert sum(len(event.records) for event in events) == PINNED_RECORD_COUNT
    assert hashlib.sha256(b"\n".join(values)).hexdigest() == PINNED_EVENTS_DIGEST
    assert hashlib.sha256(hashes).hexdigest() == PINNED_HASHES_DIGEST
    for event, value in zip(events, values, strict=True):
        assert event.content_hash == plain_content_hash(event)
        assert decode_settlement_period(value) == event
