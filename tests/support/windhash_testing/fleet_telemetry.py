"""Builders for the fleet's telemetry tests: a site with miners registered as the fleet registers them,
readings as the collector publishes them, and Kafka messages carrying them."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import asyncpg
from windhash_common.audit import Actor
from windhash_common.consumer_runtime.messages import ConsumedMessage
from windhash_common.events_fleet import MinerTelemetryEvent
from windhash_common.topics import Topics
from windhash_fleet.fleet_registry import NewMiner, ensure_site, register_miners

TOPIC = "test.miner-telemetry.v1"
MODELS = ("S19J_PRO", "S21", "M60S")


TEST_ACTOR = Actor("test")


async def register_site(
    connection: asyncpg.Connection,
    name: str,
    serials: Sequence[str],
    address_block: int = 1,
    topics: Topics = Topics("test"),
) -> tuple[int, dict[str, int]]:
    """A site with one miner per serial (models in turn, addresses 127.<block>.0.N); → (site_id, ids)."""
    site_id = await ensure_site(connection, topics, TEST_ACTOR, name, "SYNTHETIC", Decimal(5))
    miners = [
        NewMiner(serial, MODELS[index % len(MODELS)], f"127.{address_block}.0.{index + 1}")
        for index, serial in enumerate(serials)
    ]
    await register_miners(connection, topics, site_id, miners, TEST_ACTOR)
    rows = await connection.fetch(
        "SELECT serial_number, miner_id FROM hosting_miners WHERE serial_number = ANY($1::text[])",
        list(serials),
    )
    return site_id, {row["serial_number"]: row["miner_id"] for row in rows}


def reading(
    serial: str,
    at: datetime,
    hashrate_ths: float = 100.0,
    power_w: float = 3000.0,
    temperature_c: float = 65.0,
    sleeping: bool = False,
    fan_rpm: int = 5400,
) -> MinerTelemetryEvent:
    return MinerTelemetryEvent(
        miner_serial=serial,
        recorded_at=at,
        hashrate_ths=hashrate_ths,
        temperature_c=temperature_c,
        power_w=power_w,
        fan_rpm=fan_rpm,
        fan_count=4,
        sleeping=sleeping,
        uptime_s=3600,
        synthetic=True,
    )


def message(
    value: MinerTelemetryEvent | bytes, offset: int, partition: int = 0, topic: str = TOPIC
) -> ConsumedMessage:
    """A consumed message holding the event's JSON (or raw bytes, for what the schema must refuse)."""
    if isinstance(value, MinerTelemetryEvent):
        return ConsumedMessage(topic, partition, offset, value.kafka_key, value.model_dump_json().encode())
    return ConsumedMessage(topic, partition, offset, b"raw", value)


def messages(events: Sequence[MinerTelemetryEvent | bytes], first_offset: int = 0) -> list[ConsumedMessage]:
    return [message(event, first_offset + index) for index, event in enumerate(events)]
