"""The CRM as the authorization matrix walks it behind the API (windhash_testing.context_services): its app on
its own database role, a fresh record of the `user@example.com` salesperson for each path parameter (made as
the superuser, as if through the app), and a body for each write route. Synthetic and for tests only."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
from fastapi import FastAPI
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.topics import Topics
from windhash_crm.app import create_crm_app
from windhash_crm.settings import CrmSettings

CONTEXT = "crm"
PREFIX = f"/api/v1/{CONTEXT}"
OWNER = "user@example.com"


def create_crm_test_app(pg_dsn: str, overrides: Mapping[str, Any]) -> FastAPI:
    settings = CrmSettings(
        database_url=dsn_as(pg_dsn, DatabaseRole.CRM), topic_prefix=Topics("crm-matrix").prefix, **overrides
    )
    return create_crm_app(settings)


async def _lead(superuser: asyncpg.Connection, owner: UUID) -> int:
    lead_id: int = await superuser.fetchval(
        "INSERT INTO crm_leads (name, phone, source, score, owner_id) VALUES ('M', '01224 000000', 'website',"
        " 10, $1) RETURNING lead_id",
        owner,
    )
    return lead_id


async def _deal(superuser: asyncpg.Connection, owner: UUID, won: bool) -> int:
    deal_id: int = await superuser.fetchval(
        "INSERT INTO crm_deals (lead_id, title, value_usd, stage, probability, expected_close_date, owner_id,"
        " closed_at) VALUES ($1, 'M', 100, $2, $3, '2026-06-30', $4, $5) RETURNING deal_id",
        await _lead(superuser, owner),
        "closed_won" if won else "discovery",
        100 if won else 10,
        owner,
        datetime.now(UTC) if won else None,
    )
    return deal_id


async def fresh_lead(superuser: asyncpg.Connection, ids: Mapping[str, UUID]) -> str:
    return str(await _lead(superuser, ids[OWNER]))


async def fresh_deal(superuser: asyncpg.Connection, ids: Mapping[str, UUID]) -> str:
    """An open deal (a won one for an invoice)."""
    return str(await _deal(superuser, ids[OWNER], won=False))


async def fresh_activity(superuser: asyncpg.Connection, ids: Mapping[str, UUID]) -> str:
    activity_id = await superuser.fetchval(
        "INSERT INTO crm_activities (deal_id, kind, subject, owner_id) VALUES ($1, 'note', 'M', $2)"
        " RETURNING activity_id",
        await _deal(superuser, ids[OWNER], won=False),
        ids[OWNER],
    )
    return str(activity_id)


async def fresh_invoice(superuser: asyncpg.Connection, ids: Mapping[str, UUID]) -> str:
    """A draft invoice of a won deal, with the year's next number."""
    deal_id = await _deal(superuser, ids[OWNER], won=True)
    sequence = await superuser.fetchval(
        "INSERT INTO crm_invoice_counters AS c VALUES (2026, 1) ON CONFLICT (invoice_year)"
        " DO UPDATE SET last_number = c.last_number + 1 RETURNING last_number"
    )
    invoice_id = await superuser.fetchval(
        "INSERT INTO crm_invoices (invoice_year, invoice_seq, invoice_number, deal_id, owner_id, bill_to,"
        " description, amount_usd, issue_date, due_date) VALUES (2026, $1, $2, $3, $4, 'M', 'M', 10,"
        " '2026-03-02', '2026-04-01') RETURNING invoice_id",
        sequence,
        f"WH-2026-{sequence:05d}",
        deal_id,
        ids[OWNER],
    )
    return str(invoice_id)


FRESH_VALUES = {
    "lead_id": fresh_lead,
    "deal_id": fresh_deal,
    "activity_id": fresh_activity,
    "invoice_id": fresh_invoice,
}
BODIES: dict[str, Any] = {
    f"POST {PREFIX}/leads": {"name": "M", "email": "m@matrix.example", "source": "website"},
    f"PATCH {PREFIX}/leads/{{lead_id}}": {"notes": "from the matrix"},
    f"POST {PREFIX}/leads/{{lead_id}}/convert": {"value_usd": "100", "expected_close_date": "2026-06-30"},
    f"PATCH {PREFIX}/deals/{{deal_id}}": {"title": "M from the matrix"},
    f"POST {PREFIX}/deals/{{deal_id}}/stage": {"stage": "proposal"},
    f"POST {PREFIX}/deals/{{deal_id}}/client-account": {"client_name": "M", "user_email": "m@m.example"},
    f"POST {PREFIX}/activities": {"lead_id": 1, "kind": "note", "subject": "M"},
    f"PATCH {PREFIX}/activities/{{activity_id}}": {"completed": True},
    f"POST {PREFIX}/invoices": {"deal_id": 1, "amount_usd": "5", "description": "M"},
    f"PATCH {PREFIX}/invoices/{{invoice_id}}": {"amount_usd": "6"},
    f"POST {PREFIX}/invoices/{{invoice_id}}/pay": {},
}
