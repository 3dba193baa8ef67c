"""Where the ingestor's events go: Kafka, with every send acknowledged by all in-sync replicas."""

from typing import Any, Protocol, Self

from aiokafka import AIOKafkaProducer
from windhash_common.events import DeadLetter, SettlementPeriodEvent, period_key
from windhash_common.topics import Topics


class EventSink(Protocol):
    async def publish_period(self, event: SettlementPeriodEvent) -> None: ...

    async def publish_dead_letter(self, letter: DeadLetter) -> None: ...


class KafkaEventSink:
    """Publishes and waits for the acknowledgement, so a caller that returns has a durable event."""

    def __init__(self, producer: Any, topics: Topics) -> None:
        self._producer = producer
        self._topics = topics

    @classmethod
    async def start(cls, bootstrap: str, topics: Topics) -> Self:
        # Idempotence: a send retried by the client after a lost acknowledgement is written once.
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            enable_idempotence=True,
            compression_type="gzip",
            linger_ms=5,
        )
        await producer.start()
        return cls(producer, topics)

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish_period(self, event: SettlementPeriodEvent) -> None:
        await self._producer.send_and_wait(
            self._topics.settlement_periods, value=event.model_dump_json().encode(), key=event.kafka_key
        )

    async def publish_dead_letter(self, letter: DeadLetter) -> None:
        key = None
        if letter.settlement_date is not None and letter.settlement_period is not None:
            key = period_key(letter.settlement_date, letter.settlement_period)
        await self._producer.send_and_wait(
            self._topics.dead_letter, value=letter.model_dump_json().encode(), key=key
        )
