"""Shared by the CRM's tests: its app on its own database role (so row-level security and the grants bind it,
as in production), a clock the test moves, staff and client accounts, and short helpers that walk a sale.

Holds fixtures and helpers only; pytest collects no test from it.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

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


# The authorization matrix (test_authorization_matrix.py) walks the CRM's routes too: a fresh record of the
# `user@example.com` account for each path parameter, made as the superuser (as if through the app), and a
# body for each write.
MATRIX_OWNER = "user@example.com"
MATRIX_PATH_PARAMETERS = frozenset({"lead_id", "deal_id", "activity_id", "invoice_id"})


async def matrix_record(superuser: asyncpg.Connection, owner: UUID, name: str) -> str:
    unique = uuid4().hex[:10]
    lead_id = await superuser.fetchval(
        "INSERT INTO crm_leads (name, email, source, score, owner_id) VALUES ('M', $1, 'website', 20, $2)"
        " RETURNING lead_id",
        f"m-{unique}@matrix.example",
        owner,
    )
    if name == "lead_id":
        return str(lead_id)
    won = name == "invoice_id"  # an invoice needs a won deal; the other records an open one
    deal_id = await superuser.fetchval(
        "INSERT INTO crm_deals (lead_id, title, value_usd, stage, probability, expected_close_date, owner_id,"
        " closed_at) VALUES ($1, 'M', 100, $2, $3, '2026-06-30', $4, $5) RETURNING deal_id",
        lead_id,
        "closed_won" if won else "discovery",
        100 if won else 10,
        owner,
        datetime.now(UTC) if won else None,
    )
    if name == "deal_id":
        return str(deal_id)
    if name == "activity_id":
        return str(
            await superuser.fetchval(
                "INSERT INTO crm_activities (deal_id, kind, subject, owner_id) VALUES ($1, 'note', 'M', $2)"
                " RETURNING activity_id",
                deal_id,
                owner,
            )
        )
    sequence = await superuser.fetchval(
        "INSERT INTO crm_invoice_counters AS c VALUES (2026, 1) ON CONFLICT (invoice_year)"
        " DO UPDATE SET last_number = c.last_number + 1 RETURNING last_number"
    )
    return str(
        await superuser.fetchval(
            "INSERT INTO crm_invoices (invoice_year, invoice_seq, invoice_number, deal_id, owner_id, bill_to,"
            " description, amount_usd, issue_date, due_date) VALUES (2026, $1, $2, $3, $4, 'M', 'M', 10,"
            " '2026-03-02', '2026-04-01') RETURNING invoice_id",
            sequence,
            f"WH-2026-{sequence:05d}",
            deal_id,
            owner,
        )
    )


def matrix_bodies(unique: str) -> dict[str, Any]:
    return {
        f"POST {CRM}/leads": {"name": "M", "email": f"m-{unique}@matrix.example", "source": "website"},
        f"PATCH {CRM}/leads/{{lead_id}}": {"notes": f"matrix {unique}"},
        f"POST {CRM}/leads/{{lead_id}}/convert": {"value_usd": "100", "expected_close_date": "2026-06-30"},
        f"PATCH {CRM}/deals/{{deal_id}}": {"title": f"M {unique}"},
        f"POST {CRM}/deals/{{deal_id}}/stage": {"stage": "proposal"},
        f"POST {CRM}/deals/{{deal_id}}/client-account": {
            "client_name": f"M {unique}",
            "user_email": f"{unique}@m.example",
        },
        f"POST {CRM}/activities": {"lead_id": 1, "kind": "note", "subject": "M"},
        f"PATCH {CRM}/activities/{{activity_id}}": {"completed": True},
        f"POST {CRM}/invoices": {"deal_id": 1, "amount_usd": "5", "description": "M"},
        f"PATCH {CRM}/invoices/{{invoice_id}}": {"amount_usd": "6"},
        f"POST {CRM}/invoices/{{invoice_id}}/pay": {},
    }
