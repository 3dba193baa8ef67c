"""Kafka with SASL/SCRAM (WINDHASH_STACK_KAFKA_SASL on the local stack; WINDHASH_KAFKA_SASL_* for the
services): an anonymous producer, or one with a wrong password, cannot forge an event; the services' own
clients (topic creation, the durable publisher, the reconciler's topic reader) authenticate with the settings.
"""

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaError
from pydantic import SecretStr
from windhash_common.kafka_broker import connected_kafka_broker
from windhash_common.kafka_connection import KafkaConnection
from windhash_common.settings import CommonSettings
from windhash_common.topics import Topics, ensure_topics
from windhash_reconciler.topic_reader import read_topic
from windhash_stack import LocalStack, Server
from windhash_testing.dedicated_stack import dedicated_stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
async def sasl_kafka() -> AsyncIterator[LocalStack]:
    async with dedicated_stack("sasl", servers=[Server.KAFKA], kafka_sasl=True) as stack:
        yield stack


async def refused(producer: AIOKafkaProducer) -> bool:
    try:
        await asyncio.wait_for(producer.start(), 20)
        await asyncio.wait_for(producer.send_and_wait("windhash.settlement-periods.v1", b"forged"), 20)
    except (KafkaError, TimeoutError):
        return True
    finally:
        await producer.stop()
    return False


async def test_an_anonymous_producer_is_refused(sasl_kafka: LocalStack) -> None:
    bootstrap = sasl_kafka.kafka_connection.bootstrap
    assert await refused(AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=5000))


async def test_a_producer_with_a_wrong_password_is_refused(sasl_kafka: LocalStack) -> None:
    good = sasl_kafka.kafka_connection
    wrong = KafkaConnection(good.bootstrap, good.sasl_username, SecretStr("not-the-password"))
    assert await refused(AIOKafkaProducer(**wrong.client_options(), request_timeout_ms=5000))


async def test_the_services_clients_authenticate_with_the_settings(
    sasl_kafka: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = sasl_kafka.kafka_connection
    assert connection.sasl_password is not None
    monkeypatch.setenv("WINDHASH_KAFKA_BOOTSTRAP", connection.bootstrap)
    monkeypatch.setenv("WINDHASH_KAFKA_SASL_USERNAME", str(connection.sasl_username))
    monkeypatch.setenv("WINDHASH_KAFKA_SASL_PASSWORD", connection.sasl_password.get_secret_value())
    settings = CommonSettings(topic_prefix="sasl")
    await ensure_topics(settings.kafka, settings.topics, settings.topic_layout)
    broker = await connected_kafka_broker(settings.kafka, "sasl-test")
    try:
        await broker.publish(b'{"signed": true}', Topics("sasl").audit, key=b"k")
    finally:
        await broker.stop()
    found: list[ConsumerRecord] = []
    await read_topic(settings.kafka, settings.topics.audit, found.append)
    assert [record.value for record in found] == [b'{"signed": true}']
