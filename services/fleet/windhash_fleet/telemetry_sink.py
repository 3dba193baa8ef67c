"""Where the collector's events go: Kafka through the shared FastStream broker (acks=all, idempotent), each
publish confirmed before the poll counts as done."""

from typing import Self

from faststream.kafka import KafkaBroker
from windhash_common.events import DeadLetter
from windhash_common.events_fleet import MinerTelemetryEvent
from windhash_common.kafka_broker import connected_kafka_broker
from windhash_common.kafka_connection import KafkaTarget
from windhash_common.topics import Topics


class KafkaTelemetrySink:
    def __init__(self, broker: KafkaBroker, topics: Topics) -> None:
        self._broker = broker
        self._topics = topics

    @classmethod
    async def start(cls, kafka: KafkaTarget, topics: Topics) -> Self:
        return cls(await connected_kafka_broker(kafka, "fleet"), topics)

    @property
    def broker(self) -> KafkaBroker:
        """The connected broker (the outbox relay publishes through it too)."""
        return self._broker

    async def stop(self) -> None:
        await self._broker.stop()

    async def publish_telemetry(self, event: MinerTelemetryEvent) -> None:
        value = MinerTelemetryEvent.__pydantic_serializer__.to_json(event)
        await self._broker.publish(value, self._topics.miner_telemetry, key=event.kafka_key)

    async def publish_dead_letter(self, letter: DeadLetter, key: bytes) -> None:
        await self._broker.publish(letter.model_dump_json().encode(), self._topics.dead_letter, key=key)
