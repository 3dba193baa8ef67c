"""Least privilege on the local stack: every server it runs listens only on the configured host
(`WINDHASH_STACK_HOST`, 127.0.0.1 by default), DynamoDB Local included (it has no option for it: see
deploy/local/dynamodb/LoopbackDynamoDbLocal.java), never on all interfaces."""

import pytest
from windhash_stack import StackEndpoints, StackSettings
from windhash_stack.dynamodb_server import DynamoDbServer
from windhash_stack.kafka_server import KafkaServer
from windhash_stack.listeners import is_only, listening_addresses
from windhash_stack.postgres_server import PostgresServer

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "server_class", [KafkaServer, PostgresServer, DynamoDbServer], ids=lambda c: c.__name__
)
def test_every_server_of_the_stack_listens_only_on_the_configured_host(
    stack: StackEndpoints, server_class: type[KafkaServer | PostgresServer | DynamoDbServer]
) -> None:
    settings = StackSettings()
    server = server_class(settings)
    pid = int(server.pid_file.read_text())
    addresses = listening_addresses(pid)
    assert (settings.host, server.port) in addresses
    assert is_only(addresses, settings.host), f"{server.server} listens on {sorted(addresses)}"
