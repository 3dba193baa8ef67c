"""The FastStream Kafka broker every windhash publisher uses: durable writes, and FastStream's Prometheus
middleware counting and timing every publish (faststream_published_messages_*, app_name="windhash-<service>").

Consumers stay on aiokafka: they seek to positions stored in PostgreSQL and commit offsets only after the
database transaction, which FastStream's subscribers do not do.
"""

import logging
from typing import Final

from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY

from windhash_common.kafka_connection import KafkaTarget, as_connection

# Snappy: the cheapest codec in CPU for our events, and a 4.5x smaller log than none. Measured on the 2-core
# dev machine with 2,000 settlement-period events (8.1 KB of JSON each on average, 2024's mix), published as
# the ingestor does (FastStream, 16 confirmed publishes in flight, linger 5 ms) and read back by an aiokafka
# consumer as the calculator does; ms of CPU per event, best of 5 runs (time.process_time):
#
#     codec          producer  consumer  log size
#     gzip (level 9)   0.44     0.043    7.4x smaller   aiokafka always compresses gzip at level 9
#     lz4 (level 9)    0.34     0.020    5.2x           aiokafka's lz4 is its high-compression mode
#     zstd (level 3)   0.31     0.030    7.4x
#     snappy           0.22     0.017    4.5x
#     none             0.24     0.032    1x             more bytes to send, CRC-check and read
#
# About 0.2 ms of each producer figure is FastStream's and aiokafka's own publish work. The Kafka server's CPU
# for the same runs (0.18 to 0.24 ms per event) did not tell the codecs apart beyond its noise. Consumers
# decompress whatever a batch says it holds (aiokafka, with cramjam installed for snappy, lz4 and zstd), so
# the codec can change without a coordinated deploy.
COMPRESSION: Final = "snappy"


def kafka_metrics(service: str) -> KafkaPrometheusMiddleware:
    """The middleware; creating it registers the faststream_* metrics (once: later calls reuse them)."""
    return KafkaPrometheusMiddleware(registry=REGISTRY, app_name=f"windhash-{service}")


def kafka_broker(kafka: KafkaTarget, service: str) -> KafkaBroker:
    """An unconnected broker: `connected_kafka_broker` connects it; `stop()` it after use.

    acks="all" with idempotence: a write is acknowledged by every in-sync replica, and a send the client
    retries after a lost acknowledgement is written once, in order.
    `broker.publish` waits for that acknowledgement unless asked not to (no_confirm=True). Every windhash
    publisher is one of these (tests/unit/test_import_rules.py: no other producer in the shipped code).
    """
    connection = as_connection(kafka)
    return KafkaBroker(
        connection.servers,
        security=connection.faststream_security(),
        acks="all",
        enable_idempotence=True,
        compression_type=COMPRESSION,
        linger_ms=5,
        client_id=f"windhash-{service}",
        middlewares=[kafka_metrics(service)],
        # Ours, propagating to the root handler (logging_setup): FastStream's default has its own handler.
        logger=logging.getLogger("faststream.windhash"),
        apply_types=False,  # no subscribers, so nothing to inject
    )


async def connected_kafka_broker(kafka: KafkaTarget, service: str) -> KafkaBroker:
    broker = kafka_broker(kafka, service)
    try:
        await broker.connect()
    except BaseException:
        await broker.stop()  # a half-connected broker (producer up, admin client not) still holds connections
        raise
    return broker
