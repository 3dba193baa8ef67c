"""Leads: the rows a request may see (row-level security does the owner filter; no WHERE here says whose)."""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

MAX_ROWS = 1000

_LEADS = """
SELECT l.lead_id, l.name, l.email, l.phone, l.company, l.source, l.status, l.score, l.owner_id,
       o.email AS owner_email, l.notes, l.lost_reason, l.created_at, l.updated_at, l.converted_at,
       l.email_key, l.company_key, d.deal_id
  FROM crm_leads AS l
  JOIN users AS o ON o.id = l.owner_id
  LEFT JOIN crm_deals AS d ON d.lead_id = l.lead_id
"""

_FILTERED = (
    _LEADS
    + """
 WHERE ($1::text IS NULL OR l.status = $1) AND ($2::text IS NULL OR l.source = $2)
   AND ($3::uuid IS NULL OR l.owner_id = $3) AND ($4::smallint IS NULL OR l.score >= $4)
   AND ($5::text IS NULL
        OR strpos(lower(concat_ws(' ', l.name, l.email, l.company, l.phone)), lower($5)) > 0)
 ORDER BY l.score DESC, l.lead_id DESC
 LIMIT $6 OFFSET $7
"""
)

_INSERT = """
INSERT INTO crm_leads (name, email, phone, company, email_key, company_key, source, status, score, owner_id,
                       notes)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING lead_id
"""

_UPDATE = """
UPDATE crm_leads
   SET name = $2, email = $3, phone = $4, company = $5, email_key = $6, company_key = $7, source = $8,
       status = $9, score = $10, owner_id = $11, notes = $12, lost_reason = $13, updated_at = now()
 WHERE lead_id = $1
"""

# The columns a change may set, in _UPDATE's order after lead_id.
EDITABLE = (
    "name",
    "email",
    "phone",
    "company",
    "email_key",
    "company_key",
    "source",
    "status",
    "score",
    "owner_id",
    "notes",
    "lost_reason",
)


@dataclass(frozen=True)
class LeadFilter:
    status: str | None = None
    source: str | None = None
    owner_id: UUID | None = None
    min_score: int | None = None
    search: str | None = None
    limit: int = 200
    offset: int = 0


async def list_leads(connection: asyncpg.Connection, where: LeadFilter) -> list[asyncpg.Record]:
    return list(
        await connection.fetch(
            _FILTERED,
            where.status,
            where.source,
            where.owner_id,
            where.min_score,
            where.search,
            min(where.limit, MAX_ROWS),
            where.offset,
        )
    )


async def find_lead(
    connection: asyncpg.Connection, lead_id: int, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE OF l" if for_update else ""
    return await connection.fetchrow(f"{_LEADS} WHERE l.lead_id = $1{lock}", lead_id)


async def insert_lead(connection: asyncpg.Connection, values: dict[str, Any]) -> int:
    lead_id: int = await connection.fetchval(
        _INSERT,
        values["name"],
        values["email"],
        values["phone"],
        values["company"],
        values["email_key"],
        values["company_key"],
        values["source"],
        values["status"],
        values["score"],
        values["owner_id"],
        values["notes"],
    )
    return lead_id


async def update_lead(connection: asyncpg.Connection, lead_id: int, values: dict[str, Any]) -> None:
    await connection.execute(_UPDATE, lead_id, *(values[column] for column in EDITABLE))


async def mark_converted(connection: asyncpg.Connection, lead_id: int) -> None:
    await connection.execute(
        "UPDATE crm_leads SET status = 'converted', score = 100, converted_at = now(), updated_at = now()"
        " WHERE lead_id = $1",
        lead_id,
    )


async def duplicates(
    connection: asyncpg.Connection, email_key: str, company_key: str, exclude: int | None
) -> list[asyncpg.Record]:
    """Leads of any owner with the same email or company key (migration 1400's crm_lead_duplicates)."""
    if not email_key and not company_key:
        return []
    return list(
        await connection.fetch(
            "SELECT lead_id, owner_email, status, matched_on FROM crm_lead_duplicates($1, $2, $3)",
            email_key,
            company_key,
            exclude,
        )
    )
