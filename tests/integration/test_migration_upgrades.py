"""Migrations bring a database that already holds data forward, not only an empty one: each is applied here
to a database stopped at the version before it, with the rows that version could hold."""

import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import asyncpg
import pytest
from windhash_common.db import _bring_forward, migrate, migrations
from windhash_stack import StackEndpoints

pytestmark = pytest.mark.integration


async def _database_at(stack: StackEndpoints, below: int) -> tuple[str, str]:
    name = f"t_{uuid.uuid4().hex}"
    admin = await asyncpg.connect(stack.postgres_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = urlsplit(stack.postgres_dsn)._replace(path=f"/{name}").geturl()
    connection = await asyncpg.connect(dsn)
    try:
        await _bring_forward(connection, [m for m in migrations() if m.version < below])
    finally:
        await connection.close()
    return name, dsn


async def test_outbox_rows_published_before_statuses_existed_become_published(stack: StackEndpoints) -> None:
    name, dsn = await _database_at(stack, 1500)
    connection = await asyncpg.connect(dsn)
    try:
        insert = (
            "INSERT INTO outbox (topic, key, payload, published_at) VALUES ($1, $2, '{}', $3) RETURNING id"
        )
        published = await connection.fetchval(insert, "t", b"a", datetime.now(UTC))
        pending = await connection.fetchval(insert, "t", b"b", None)
        assert next(m.version for m in await migrate(connection)) == 1500
        rows = dict(await connection.fetch("SELECT id, status FROM outbox"))
        assert rows == {published: "published", pending: "pending"}
    finally:
        await connection.close()
        admin = await asyncpg.connect(stack.postgres_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
