"""A local stack of a test's own (own state dir and ports, shared jars), for tests that stop or restart its
servers: the session's shared stack is never disturbed."""

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from windhash_stack import LocalStack, StackSettings
from windhash_stack.ports import free_port


@asynccontextmanager
async def dedicated_stack(name: str) -> AsyncIterator[LocalStack]:
    base = StackSettings()
    # Under the checkout's state dir: PostgreSQL's unprivileged account cannot enter /tmp/pytest-of-root.
    state_dir = base.state_dir / "test-stacks" / f"{name}-{os.getpid()}"
    ports = {
        "kafka_port": free_port(),
        "kafka_controller_port": free_port(),
        "postgres_port": free_port(),
        "dynamodb_port": free_port(),
    }
    stack = LocalStack(base.model_copy(update={"state_dir": state_dir, "jars_dir": base.jars_root, **ports}))
    try:
        await stack.up()
        yield stack
    finally:
        await stack.down()
        shutil.rmtree(state_dir, ignore_errors=True)
