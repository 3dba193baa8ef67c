"""Fleet event schemas refuse what the telemetry writer must dead-letter: NaN, infinities, negatives, absurd
values, wrong types, unknown fields."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from windhash_common.events_fleet import MinerStatusChangedEvent, MinerTelemetryEvent

GOOD: dict[str, Any] = {
    "schema_version": 1,
    "miner_serial": "SIM-2024-000001",
    "recorded_at": "2026-03-01T12:00:00Z",
    "hashrate_ths": 199.5,
    "temperature_c": 66.2,
    "power_w": 3490.0,
    "fan_rpm": 5400,
    "fan_count": 4,
    "sleeping": False,
    "uptime_s": 3600,
    "synthetic": True,
}


def test_a_reading_round_trips_through_json_keyed_by_serial() -> None:
    event = MinerTelemetryEvent.model_validate_json(json.dumps(GOOD))
    assert MinerTelemetryEvent.model_validate_json(event.model_dump_json()) == event
    assert event.kafka_key == b"SIM-2024-000001"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hashrate_ths", "NaN"),
        ("hashrate_ths", float("inf")),
        ("hashrate_ths", -1.0),
        ("hashrate_ths", 2e15),  # H/s mistaken for TH/s
        ("power_w", float("nan")),
        ("power_w", -5.0),
        ("power_w", 3.5e6),
        ("temperature_c", 1000.0),
        ("temperature_c", -273.0),
        ("fan_rpm", -1),
        ("fan_rpm", 10**6),
        ("fan_rpm", 5400.5),
        ("hashrate_ths", "100"),  # a string where a number belongs
        ("sleeping", "no"),
        ("miner_serial", "bad serial; DROP TABLE"),
        ("miner_serial", ""),
        ("recorded_at", "2026-03-01T12:00:00"),  # no time zone
        ("uptime_s", -3),
    ],
)
def test_a_reading_with_an_impossible_value_is_refused(field: str, value: object) -> None:
    payload = {**GOOD, field: value}
    text = json.dumps(payload).replace('"NaN"', "NaN")
    with pytest.raises(ValidationError):
        MinerTelemetryEvent.model_validate_json(text)


def test_unknown_fields_and_versions_are_refused() -> None:
    with pytest.raises(ValidationError):
        MinerTelemetryEvent.model_validate({**GOOD, "extra": 1})
    with pytest.raises(ValidationError):
        MinerTelemetryEvent.model_validate({**GOOD, "schema_version": 2})


def test_a_status_change_names_its_transition() -> None:
    event = MinerStatusChangedEvent(
        event_type="miner.offline",
        miner_serial="SIM-2024-000001",
        site_id=1,
        status_before="active",
        status_after="offline",
        reason="refused",
        consecutive_failures=2,
        actor="fleet-collector/shard-0",
        changed_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    assert MinerStatusChangedEvent.model_validate_json(event.model_dump_json()) == event
    with pytest.raises(ValidationError):
        MinerStatusChangedEvent.model_validate({**event.model_dump(), "status_after": "exploded"})
