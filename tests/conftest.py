"""Shared fixtures: one real stack per test run, and per-test isolation inside it.

- `stack` (session): the local stack's endpoints. Starts the stack when it is not running and, at the end,
  stops what test sessions started once no other test session still uses it (a stack started by hand keeps
  running). With a reachable Docker engine and WINDHASH_TEST_USE_TESTCONTAINERS=1, testcontainers provides the
  servers instead.
- `pg_dsn` (function): a fresh database, migrated and empty, cloned from a session template; dropped after.
- `topic_prefix` (function): a unique topic prefix whose topics exist (3 partitions); deleted afterwards.
- `service_env` (function): the WINDHASH_* variables pointing a service at all of the above, also set in
  os.environ (WINDHASH_DIFFICULTY_TABLE is unique per test too).

Nothing starts a server until a test asks for one of these fixtures, so unit tests stay server-free.

`--full` runs the stress tests at full size (the chaos test over the whole of 2024), not the size CI fits.
"""

import contextlib
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aioboto3
import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from windhash_common.db import migrate_database, migrations
from windhash_common.db_privileges import privileges_fingerprint
from windhash_common.topics import Topics, ensure_topics
from windhash_stack import LocalStack, StackEndpoints, StackSettings
from windhash_stack.containers import container_stack, docker_reachable

TEST_TOPIC_PARTITIONS = 3
# Serialises template builds across concurrent test sessions sharing one PostgreSQL.
_TEMPLATE_LOCK = 0x77687470


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--full",
        action="store_true",
        help="run the stress tests at full size: the chaos test over the whole year 2024 (tens of minutes)",
    )


def pytest_configure(config: pytest.Config) -> None:
    # The chaos module sizes itself (and its timeout mark) at import, before any fixture could tell it.
    if config.getoption("--full"):
        os.environ["WINDHASH_CHAOS_FULL"] = "1"


@pytest.fixture(scope="session")
async def stack() -> AsyncIterator[StackEndpoints]:
    if os.environ.get("WINDHASH_TEST_USE_TESTCONTAINERS") == "1" and docker_reachable():
        with container_stack() as endpoints:
            yield endpoints
        return
    local = LocalStack(StackSettings())
    report = await local.lease()
    try:
        yield report.endpoints
    finally:
        await local.release()


def database_dsn(dsn: str, database: str) -> str:
    return urlsplit(dsn)._replace(path=f"/{database}").geturl()


def _schema_digest() -> str:
    # The template's name changes with the migrations, so a new migration never meets a stale template.
    digest = hashlib.sha256()
    for migration in migrations():
        digest.update(f"{migration.version}:{migration.name}:{migration.sql}\0".encode())
    digest.update(privileges_fingerprint().encode())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
async def pg_template(stack: StackEndpoints) -> str:
    """A migrated database to clone per test (CREATE DATABASE ... TEMPLATE takes milliseconds)."""
    name = f"windhash_tpl_{_schema_digest()}"
    admin = await asyncpg.connect(stack.postgres_dsn)
    try:
        await admin.execute("SELECT pg_advisory_lock($1)", _TEMPLATE_LOCK)
        try:
            if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                building = (
                    f"{name}_building"  # renamed only once complete, so a crash never leaves a half template
                )
                await admin.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
                await admin.execute(f'CREATE DATABASE "{building}"')
                await migrate_database(database_dsn(stack.postgres_dsn, building))
                await admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
                # Nobody may connect to it: a connection would make every clone fail.
                await admin.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')
        finally:
            await admin.execute("SELECT pg_advisory_unlock($1)", _TEMPLATE_LOCK)
    finally:
        await admin.close()
    return name


@contextlib.asynccontextmanager
async def fresh_database(server_dsn: str, template: str) -> AsyncIterator[str]:
    """A new database cloned from the migrated template, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex}"
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await admin.close()
    try:
        yield database_dsn(server_dsn, name)
    finally:
        admin = await asyncpg.connect(server_dsn)
        try:
            # FORCE: a pool or service the test left open must not keep its database alive.
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
async def pg_dsn(stack: StackEndpoints, pg_template: str) -> AsyncIterator[str]:
    async with fresh_database(stack.postgres_dsn, pg_template) as dsn:
        yield dsn


@pytest.fixture
async def reference_dsn(stack: StackEndpoints, pg_template: str) -> AsyncIterator[str]:
    """A second fresh database, for tests that compare a disturbed run with an undisturbed one."""
    async with fresh_database(stack.postgres_dsn, pg_template) as dsn:
        yield dsn


@pytest.fixture
async def topic_prefix(stack: StackEndpoints) -> AsyncIterator[str]:
    async with fresh_topics(stack.kafka_bootstrap) as prefix:
        yield prefix


@pytest.fixture
async def reference_topic_prefix(stack: StackEndpoints) -> AsyncIterator[str]:
    """A second prefix's topics, for the undisturbed run beside `reference_dsn`."""
    async with fresh_topics(stack.kafka_bootstrap) as prefix:
        yield prefix


@contextlib.asynccontextmanager
async def fresh_topics(bootstrap: str) -> AsyncIterator[str]:
    """Every topic under a new prefix, deleted afterwards."""
    prefix = f"t{uuid.uuid4().hex[:12]}"
    topics = Topics(prefix=prefix)
    await ensure_topics(bootstrap, topics, TEST_TOPIC_PARTITIONS)
    try:
        yield prefix
    finally:
        # Deleted so thousands of test topics do not pile up and slow the broker's start-up.
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            with contextlib.suppress(Exception):  # cleanup only; the next run must not fail because of it
                existing = set(await admin.list_topics())
                await admin.delete_topics([name for name in topics.all() if name in existing])
        finally:
            await admin.close()


@pytest.fixture
async def service_env(
    stack: StackEndpoints, pg_dsn: str, topic_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[dict[str, str]]:
    difficulty_table = f"windhash_difficulty_{uuid.uuid4().hex[:12]}"
    env = {
        "WINDHASH_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
        "WINDHASH_DATABASE_URL": pg_dsn,
        "WINDHASH_DYNAMODB_ENDPOINT": stack.dynamodb_endpoint,
        "WINDHASH_TOPIC_PREFIX": topic_prefix,
        "WINDHASH_TOPIC_PARTITIONS": str(TEST_TOPIC_PARTITIONS),
        "WINDHASH_DIFFICULTY_TABLE": difficulty_table,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env
    await _drop_table(stack.dynamodb_endpoint, difficulty_table)


async def _drop_table(endpoint: str, table: str) -> None:
    session = aioboto3.Session()
    async with session.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="eu-west-2",
        aws_access_key_id="windhash",
        aws_secret_access_key="windhash",
    ) as client:
        with contextlib.suppress(Exception):  # the test may never have created it
            await client.delete_table(TableName=table)
