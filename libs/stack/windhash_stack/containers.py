"""The same three servers from testcontainers, for machines with a Docker engine (opt-in for tests)."""

import asyncio
import contextlib
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
from windhash_common.db_roles import DatabaseRole, provision_roles
from windhash_common.local_stack_location import PASSFILE_NAME

from windhash_stack.endpoints import StackEndpoints
from windhash_stack.postgres_credentials import PostgresCredentials, ensure_credentials

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

    state = Path(tempfile.mkdtemp(prefix="windhash-containers-"))
    roles = ["windhash", *(role.value for role in DatabaseRole)]
    credentials = ensure_credentials(state / PASSFILE_NAME, roles)
    with (
        KafkaContainer(KAFKA_IMAGE).with_kraft() as kafka,
        PostgresContainer(
            POSTGRES_IMAGE,
            username="windhash",
            password=credentials.passwords["windhash"].get_secret_value(),
            dbname="windhash",
        ) as postgres,
        DockerContainer(DYNAMODB_IMAGE)
        .with_command("-jar DynamoDBLocal.jar -sharedDb")
        .with_exposed_ports(8000) as dynamodb,
    ):
        wait_for_logs(dynamodb, "Initializing DynamoDB Local")
        host, port = postgres.get_container_host_ip(), int(postgres.get_exposed_port(5432))
        dsn = credentials.dsn("windhash", host, port, "windhash")
        # Its own thread: the caller (a pytest fixture) may be running an event loop already.
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, _provision(dsn, credentials)).result()
        yield StackEndpoints(
            kafka_bootstrap=kafka.get_bootstrap_server(),
            postgres_dsn=dsn,
            dynamodb_endpoint=f"http://{dynamodb.get_container_host_ip()}:{dynamodb.get_exposed_port(8000)}",
        )


async def _provision(dsn: str, credentials: PostgresCredentials) -> None:
    """The same roles the local stack makes (the image's superuser is `windhash`, with its own password)."""
    connection = await asyncpg.connect(dsn)
    try:
        await provision_roles(
            connection, {role.value: credentials.passwords[role.value] for role in DatabaseRole}
        )
        await connection.execute(f"ALTER DATABASE windhash OWNER TO {DatabaseRole.OWNER.value}")
    finally:
        await connection.close()
