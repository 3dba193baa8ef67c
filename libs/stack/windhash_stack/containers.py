"""The same three servers from testcontainers, for machines with a Docker engine (opt-in for tests)."""

import contextlib
from collections.abc import Iterator
from typing import Any

from windhash_stack.endpoints import StackEndpoints

KAFKA_IMAGE = "apache/kafka:4.1.1"
POSTGRES_IMAGE = "postgres:16"
DYNAMODB_IMAGE = "amazon/dynamodb-local:2.6.1"


def docker_reachable() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        client: Any = docker.from_env(timeout=3)
        client.ping()
    except Exception:  # no SDK, no socket, no daemon: all mean "no Docker here"
        return False
    return True


@contextlib.contextmanager
def container_stack() -> Iterator[StackEndpoints]:
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.community.postgres import PostgresContainer
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    with (
        KafkaContainer(KAFKA_IMAGE).with_kraft() as kafka,
        PostgresContainer(
            POSTGRES_IMAGE, username="windhash", password="windhash", dbname="windhash"
        ) as postgres,
        DockerContainer(DYNAMODB_IMAGE)
        .with_command("-jar DynamoDBLocal.jar -sharedDb")
        .with_exposed_ports(8000) as dynamodb,
    ):
        wait_for_logs(dynamodb, "Initializing DynamoDB Local")
        yield StackEndpoints(
            kafka_bootstrap=kafka.get_bootstrap_server(),
            postgres_dsn=postgres.get_connection_url(driver=None),
            dynamodb_endpoint=f"http://{dynamodb.get_container_host_ip()}:{dynamodb.get_exposed_port(8000)}",
        )
