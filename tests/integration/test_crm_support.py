"""Shared by the CRM's tests: its app on its own database role (so row-level security and the grants bind it,
as in production), a clock the test moves, staff and client accounts, and short helpers that walk a sale.

Holds fixtures and helpers only; pytest collects no test from it.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from test_accounts_support import Accounts, bearer  # type: ignore[import-not-found]
from windhash_common.access.identity import CredentialKind, Identity
from windhash_common.access.roles import Role
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.topics import Topics
from windhash_crm.app import create_crm_app
from windhash_crm.settings import CrmSettings

CRM = "/api/v1/crm"
START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class MovableClock:
    """The CRM's clock in a test: starts at START, moved by the test (`clock.now += timedelta(days=40)`)."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def crm_settings(pg_dsn: str, topics: Topics, **overrides: Any) -> CrmSettings:
    values: dict[str, Any] = {"database_url": dsn_as(pg_dsn, DatabaseRole.CRM), "topic_prefix": topics.prefix}
    return CrmSettings(**(values | overrides))


@dataclass
class CrmClient:
    http: httpx.AsyncClient
    pool: asyncpg.Pool
    settings: CrmSettings
    clock: MovableClock
    accounts: Accounts
    app: FastAPI

    def identity(self, email: str) -> Identity:
        """The identity a request of the account (a staff one of STAFF) resolves to."""
        return Identity(CredentialKind.SESSION, self.accounts.ids[email], email, STAFF[email])

    async def as_(self, email: str) -> dict[str, str]:
        """Headers of a fresh session of the account."""
        return dict(bearer(await self.accounts.session(email)))

    async def call(self, email: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, f"{CRM}{path}", headers=await self.as_(email), **kwargs)

    async def ok(self, email: str, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON of a call that must succeed (fails the test with the answer otherwise)."""
        response = await self.call(email, method, path, **kwargs)
        assert response.status_code < 300, (
            f"{method} {path} as {email}: {response.status_code} {response.text}"
        )
        return response.json()

    async def lead(self, owner: str, **fields: Any) -> dict[str, Any]:
        """A new lead of `owner`'s (an account's email)."""
        body = {"name": "Ann Turbine", "email": "ann@northwind.example", "source": "referral"} | fields
        result: dict[str, Any] = await self.ok(owner, "POST", "/leads", json=body)
        return result

    async def won_deal(self, owner: str, value: str = "24000.00", **lead_fields: Any) -> dict[str, Any]:
        """A lead of `owner`'s, converted and won: the deal."""
        lead = await self.lead(owner, **lead_fields)
        deal = await self.ok(
            owner,
            "POST",
            f"/leads/{lead['lead_id']}/convert",
            json={"value_usd": value, "expected_close_date": "2026-04-30"},
        )
        won: dict[str, Any] = await self.ok(
            owner, "POST", f"/deals/{deal['deal_id']}/stage", json={"stage": "closed_won"}
        )
        return won


STAFF = {"sales@example.com": Role.USER, "sales2@example.com": Role.USER, "admin@example.com": Role.ADMIN}


async def open_crm(pg_dsn: str, accounts: Accounts, topics: Topics, **overrides: Any) -> CrmClient:
    settings = crm_settings(pg_dsn, topics, **overrides)
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=12)
    assert pool is not None
    clock = MovableClock()
    app = create_crm_app(settings, pool, clock)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    http = httpx.AsyncClient(transport=transport, base_url="http://crm.test")
    return CrmClient(http, pool, settings, clock, accounts, app)


@pytest.fixture(name="crm")
async def crm_fixture(pg_dsn: str, accounts: Accounts) -> AsyncIterator[CrmClient]:
    """The CRM app as it runs (role windhash_crm), with two sales staff and an admin."""
    for email, role in STAFF.items():
        await accounts.add(email, role)
    client = await open_crm(pg_dsn, accounts, Topics("crm-test"))
    try:
        yield client
    finally:
        await client.http.aclose()
        await client.pool.close()


async def eventually(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
