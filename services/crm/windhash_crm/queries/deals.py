"""Deals and their stage history (row-level security: the deals a request may see, and their history)."""

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

MAX_ROWS = 1000

_DEALS = """
SELECT d.deal_id, d.lead_id, d.title, d.value_usd, d.stage, d.probability, d.expected_close_date,
       d.owner_id, o.email AS owner_email, d.client_id, c.name AS client_name, d.miner_serials,
       d.lost_reason, d.created_at, d.updated_at, d.closed_at, l.name AS lead_name, l.company AS lead_company
  FROM crm_deals AS d
  JOIN users AS o ON o.id = d.owner_id
  JOIN crm_leads AS l ON l.lead_id = d.lead_id
  LEFT JOIN clients AS c ON c.id = d.client_id
"""

_FILTERED = (
    _DEALS
    + """
 WHERE ($1::text IS NULL OR d.stage = $1) AND ($2::uuid IS NULL OR d.owner_id = $2)
   AND ($3::date IS NULL OR d.expected_close_date >= $3) AND ($4::date IS NULL OR d.expected_close_date <= $4)
   AND ($5::boolean IS NULL OR (d.closed_at IS NULL) = $5)
   AND ($6::text IS NULL OR strpos(lower(d.title || ' ' || l.name || ' ' || coalesce(l.company, '')),
                                   lower($6)) > 0)
 ORDER BY d.expected_close_date, d.deal_id
 LIMIT $7 OFFSET $8
"""
)

_INSERT = """
INSERT INTO crm_deals (lead_id, title, value_usd, stage, probability, expected_close_date, owner_id)
VALUES ($1, $2, $3, 'discovery', $4, $5, $6)
RETURNING deal_id
"""

_UPDATE = """
UPDATE crm_deals
   SET title = $2, value_usd = $3, probability = $4, expected_close_date = $5, owner_id = $6,
       miner_serials = $7, updated_at = now()
 WHERE deal_id = $1
"""

_SET_STAGE = """
UPDATE crm_deals
   SET stage = $2, probability = $3, lost_reason = $4, updated_at = now(),
       closed_at = CASE WHEN $2 IN ('closed_won', 'closed_lost') THEN now() END
 WHERE deal_id = $1
"""

_RECORD_STAGE = """
INSERT INTO crm_deal_stage_history (deal_id, stage_from, stage_to, probability, value_usd, changed_by, actor)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""

_HISTORY = """
SELECT h.change_id, h.deal_id, h.stage_from, h.stage_to, h.probability, h.value_usd, h.changed_at, h.actor
  FROM crm_deal_stage_history AS h WHERE h.deal_id = $1 ORDER BY h.change_id
"""

EDITABLE = ("title", "value_usd", "probability", "expected_close_date", "owner_id", "miner_serials")


@dataclass(frozen=True)
class DealFilter:
    stage: str | None = None
    owner_id: UUID | None = None
    closing_from: date | None = None
    closing_to: date | None = None
    open: bool | None = None
    search: str | None = None
    limit: int = 200
    offset: int = 0


async def list_deals(connection: asyncpg.Connection, where: DealFilter) -> list[asyncpg.Record]:
    return list(
        await connection.fetch(
            _FILTERED,
            where.stage,
            where.owner_id,
            where.closing_from,
            where.closing_to,
            where.open,
            where.search,
            min(where.limit, MAX_ROWS),
            where.offset,
        )
    )


async def find_deal(
    connection: asyncpg.Connection, deal_id: int, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE OF d" if for_update else ""
    return await connection.fetchrow(f"{_DEALS} WHERE d.deal_id = $1{lock}", deal_id)


async def insert_deal(connection: asyncpg.Connection, lead_id: int, values: dict[str, Any]) -> int:
    deal_id: int = await connection.fetchval(
        _INSERT,
        lead_id,
        values["title"],
        values["value_usd"],
        values["probability"],
        values["expected_close_date"],
        values["owner_id"],
    )
    return deal_id


async def update_deal(connection: asyncpg.Connection, deal_id: int, values: dict[str, Any]) -> None:
    await connection.execute(_UPDATE, deal_id, *(values[column] for column in EDITABLE))


async def set_stage(
    connection: asyncpg.Connection, deal_id: int, stage: str, probability: int, lost_reason: str | None
) -> None:
    await connection.execute(_SET_STAGE, deal_id, stage, probability, lost_reason)


async def record_stage(
    connection: asyncpg.Connection,
    deal_id: int,
    stage_from: str | None,
    stage_to: str,
    probability: int,
    value_usd: Any,
    changed_by: UUID | None,
    actor: str,
) -> None:
    await connection.execute(
        _RECORD_STAGE, deal_id, stage_from, stage_to, probability, value_usd, changed_by, actor
    )


async def stage_history(connection: asyncpg.Connection, deal_id: int) -> list[asyncpg.Record]:
    return list(await connection.fetch(_HISTORY, deal_id))


async def set_client(connection: asyncpg.Connection, deal_id: int, client_id: UUID) -> None:
    await connection.execute(
        "UPDATE crm_deals SET client_id = $2, updated_at = now() WHERE deal_id = $1", deal_id, client_id
    )


async def pipeline_figures(connection: asyncpg.Connection, owner_id: UUID | None) -> list[asyncpg.Record]:
    """Stage, value, probability and expected close of every deal the request sees (or one owner's)."""
    return list(
        await connection.fetch(
            "SELECT stage, value_usd, probability, expected_close_date FROM crm_deals"
            " WHERE ($1::uuid IS NULL OR owner_id = $1)",
            owner_id,
        )
    )
