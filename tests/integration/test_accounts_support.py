"""Shared by the accounts tests: the API app on its own database role, accounts made through the accounts
code as the operator's role, and sessions opened directly (no password hashing per request).

Holds fixtures and helpers only; pytest collects no test from it.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_common.access.roles import Role
from windhash_common.accounts import users
from windhash_common.accounts.passwords import hash_password
from windhash_common.accounts.sessions import open_session
from windhash_common.audit import cli_actor
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.topics import Topics

PASSWORD = "turbines hum over the north sea"
TOPICS = Topics("accounts-test")
_HASH: list[str] = []


def password_hash() -> str:
    """One argon2 hash for every test account (hashing costs ~0.1 s of CPU each)."""
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    return _HASH[0]


@dataclass
class Accounts:
    """Accounts made as the operator (the CLI's role), and the superuser for what no role may do."""

    operator: asyncpg.Connection
    superuser: asyncpg.Connection
    ids: dict[str, UUID] = field(default_factory=dict)

    async def add(
        self,
        email: str,
        role: Role,
        client: str | None = None,
        must_change_password: bool = False,
    ) -> UUID:
        async with self.operator.transaction():
            client_id = None
            if client is not None:
                client_id = await self.operator.fetchval("SELECT id FROM clients WHERE name = $1", client)
                if client_id is None:
                    client_id = (await users.create_client(self.operator, TOPICS, cli_actor(), client))["id"]
            row = await users.create_user(
                self.operator,
                TOPICS,
                cli_actor(),
                email=email,
                name=email.split("@")[0],
                role=role,
                client_id=client_id,
                password_hash=password_hash(),
                must_change_password=must_change_password,
                access_until=None,
            )
        self.ids[email] = row["id"]
        return UUID(str(row["id"]))

    async def session(self, email: str) -> str:
        """A fresh session token for the account, as a login would make one."""
        token, _ = await open_session(self.operator, self.ids[email], timedelta(hours=1), "127.0.0.1", "test")
        return token


@pytest.fixture(name="accounts")
async def accounts_fixture(pg_dsn: str) -> AsyncIterator[Accounts]:
    operator = await asyncpg.connect(dsn_as(pg_dsn, DatabaseRole.OPERATOR))
    superuser = await asyncpg.connect(pg_dsn)
    try:
        yield Accounts(operator, superuser)
    finally:
        await operator.close()
        await superuser.close()


def api_settings(pg_dsn: str, **overrides: Any) -> ApiSettings:
    defaults: dict[str, Any] = {
        "database_url": dsn_as(pg_dsn, DatabaseRole.API),
        "migrate_on_start": False,
        "api_cache": False,
        "topic_prefix": TOPICS.prefix,
    }
    return ApiSettings(**(defaults | overrides))


@dataclass
class ApiClient:
    http: httpx.AsyncClient
    pool: asyncpg.Pool
    settings: ApiSettings


async def open_api(pg_dsn: str, **overrides: Any) -> tuple[ApiClient, FastAPI]:
    settings = api_settings(pg_dsn, **overrides)
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=4)
    assert pool is not None
    app = create_app(settings, pool=pool)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    client = httpx.AsyncClient(transport=transport, base_url="http://windhash.test")
    return ApiClient(client, pool, settings), app


@pytest.fixture(name="api")
async def api_fixture(pg_dsn: str) -> AsyncIterator[ApiClient]:
    """The API as it runs: connected as windhash_api, so row-level security and the grants bind it."""
    client, _ = await open_api(pg_dsn)
    try:
        yield client
    finally:
        await client.http.aclose()
        await client.pool.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
