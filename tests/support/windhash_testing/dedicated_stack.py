"""A local stack of a test's own (own state dir and ports, shared jars), for tests that stop or restart its
servers, or that need servers configured otherwise (a 3-broker cluster, SASL): the session's shared stack is
never disturbed."""

import os
import shutil
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from windhash_stack import LocalStack, Server, StackSettings
from windhash_stack.ports import free_port
from windhash_stack.processes import port_open


def kafka_ports(brokers: int) -> dict[str, int]:
    """Node N listens on kafka_port + 2(N-1) and kafka_controller_port + 2(N-1): 2 × brokers free ports in
    a row, from a free first one."""
    for _ in range(50):
        first = free_port()
        block = range(first, first + 2 * brokers)
        if all(not port_open("127.0.0.1", port, 0.05) for port in block[1:]):
            return {"kafka_port": first, "kafka_controller_port": first + 1}
    raise RuntimeError(f"no {2 * brokers} free ports in a row")


@asynccontextmanager
async def dedicated_stack(
    name: str, *, brokers: int = 1, servers: Iterable[Server] | None = None, **settings: Any
) -> AsyncIterator[LocalStack]:
    base = StackSettings()
    # Under the checkout's state dir: PostgreSQL's unprivileged account cannot enter /tmp/pytest-of-root.
    state_dir = base.state_dir / "test-stacks" / f"{name}-{os.getpid()}"
    ports = {**kafka_ports(brokers), "postgres_port": free_port(), "dynamodb_port": free_port()}
    stack = LocalStack(
        base.model_copy(
            update={
                "state_dir": state_dir,
                "jars_dir": base.jars_root,
                "kafka_brokers": brokers,
                # Several JVMs of one test share 2 cores and the other tests' servers.
                "kafka_heap": "384m" if brokers > 1 else base.kafka_heap,
                # The JMX exporter's fixed port would clash between stacks: only where a test asks for it.
                "kafka_jmx_exporter_port": None,
                **ports,
                **settings,
            }
        )
    )
    try:
        await stack.start(servers)
        yield stack
    finally:
        await stack.down()
        shutil.rmtree(state_dir, ignore_errors=True)
