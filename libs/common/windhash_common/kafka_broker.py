"""The FastStream Kafka broker every windhash publisher uses: durable writes, and FastStream's Prometheus
middleware counting and timing every publish (faststream_published_messages_*, app_name="windhash-<service>").

Consumers stay on aiokafka: they seek to positions stored in PostgreSQL and commit offsets only after the
database transaction, which FastStream's subscribers do not do.
"""

from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY


def kafka_metrics(service: str) -> KafkaPrometheusMiddleware:
    """The middleware; creating it registers the faststream_* metrics (once: later calls reuse them)."""
    return KafkaPrometheusMiddleware(registry=REGISTRY, app_name=f"windhash-{service}")


def kafka_broker(bootstrap: str, service: str) -> KafkaBroker:
    """An unconnected broker: `connected_kafka_broker` connects it; `stop()` it after use.

    acks="all" with idempotence: a write is acknowledged by every in-sync replica, and a send the client
    retries after a lost acknowledgement is written once, in order.
    `broker.publish` waits for that acknowledgement unless asked not to (no_confirm=True).
    """
    return KafkaBroker(
        bootstrap,
        acks="all",
        enable_idempotence=True,
        compression_type="gzip",
        linger_ms=5,
        client_id=f"windhash-{service}",
        middlewares=[kafka_metrics(service)],
        apply_types=False,  # no subscribers, so nothing to inject
    )


async def connected_kafka_broker(bootstrap: str, service: str) -> KafkaBroker:
    broker = kafka_broker(bootstrap, service)
    try:
        await broker.connect()
    except BaseException:
        await broker.stop()  # a half-connected broker (producer up, admin client not) still holds connections
        raise
    return broker
