"""Where the ingestor's events go: Kafka, with every send acknowledged by all in-sync replicas."""

from typing import Protocol, Self

from faststream.kafka import KafkaBroker
from windhash_common.events import DeadLetter, SettlementPeriodEvent, period_key
from windhash_common.kafka_broker import connected_kafka_broker
from windhash_common.kafka_connection import KafkaTarget
from windhash_common.topics import Topics


class EventSink(Protocol):
    async def publish_period(self, event: SettlementPeriodEvent) -> None: ...

    async def publish_dead_letter(self, letter: DeadLetter) -> None: ...


class KafkaEventSink:
    """Publishes and waits for the acknowledgement, so a caller that returns has a durable event."""

    def __init__(self, broker: KafkaBroker, topics: Topics) -> None:
        self._broker = broker
        self._topics = topics

    @classmethod
    async def start(cls, kafka: KafkaTarget, topics: Topics) -> Self:
        return cls(await connected_kafka_broker(kafka, "ingestor"), topics)

    async def stop(self) -> None:
        await self._broker.stop()

    async def publish_period(self, event: SettlementPeriodEvent) -> None:
        # Confirmed (no_confirm=False): returns only once Kafka acknowledged, raising a KafkaError otherwise.
        # The serializer's bytes as they are (model_dump_json() would decode them to str, then .encode()).
        value = SettlementPeriodEvent.__pydantic_serializer__.to_json(event)
        await self._broker.publish(value, self._topics.settlement_periods, key=event.kafka_key)

    async def publish_dead_letter(self, letter: DeadLetter) -> None:
        key = None
        if letter.settlement_date is not None and letter.settlement_period is not None:
            key = period_key(letter.settlement_date, letter.settlement_period)
        await self._broker.publish(letter.model_dump_json().encode(), self._topics.dead_letter, key=key)
