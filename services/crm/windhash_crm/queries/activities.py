"""Activities on leads and deals (row-level security: the activities a request may see)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

MAX_ROWS = 1000

_ACTIVITIES = """
SELECT a.activity_id, a.lead_id, a.deal_id, a.kind, a.subject, a.body, a.due_at, a.remind_at,
       a.reminder_sent_at, a.completed_at, a.owner_id, o.email AS owner_email, a.created_at, a.updated_at
  FROM crm_activities AS a
  JOIN users AS o ON o.id = a.owner_id
"""

_FILTERED = (
    _ACTIVITIES
    + """
 WHERE ($1::bigint IS NULL OR a.lead_id = $1) AND ($2::bigint IS NULL OR a.deal_id = $2)
   AND ($3::text IS NULL OR a.kind = $3) AND ($4::uuid IS NULL OR a.owner_id = $4)
   AND ($5::boolean IS NULL OR (a.completed_at IS NULL) = $5)
   AND ($6::timestamptz IS NULL OR a.due_at < $6)
   AND ($7::boolean IS NULL OR (a.reminder_sent_at IS NOT NULL AND a.completed_at IS NULL) = $7)
   AND ($8::text IS NULL OR strpos(lower(a.subject || ' ' || a.body), lower($8)) > 0)
 ORDER BY a.due_at NULLS LAST, a.activity_id
 LIMIT $9 OFFSET $10
"""
)

_INSERT = """
INSERT INTO crm_activities (lead_id, deal_id, kind, subject, body, due_at, remind_at, owner_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING activity_id
"""

_UPDATE = """
UPDATE crm_activities
   SET kind = $2, subject = $3, body = $4, due_at = $5, remind_at = $6, reminder_sent_at = $7,
       completed_at = $8, owner_id = $9, updated_at = now()
 WHERE activity_id = $1
"""

EDITABLE = ("kind", "subject", "body", "due_at", "remind_at", "reminder_sent_at", "completed_at", "owner_id")


@dataclass(frozen=True)
class ActivityFilter:
    lead_id: int | None = None
    deal_id: int | None = None
    kind: str | None = None
    owner_id: UUID | None = None
    open: bool | None = None
    due_before: datetime | None = None
    reminded: bool | None = None
    search: str | None = None
    limit: int = 200
    offset: int = 0


async def list_activities(connection: asyncpg.Connection, where: ActivityFilter) -> list[asyncpg.Record]:
    return list(
        await connection.fetch(
            _FILTERED,
            where.lead_id,
            where.deal_id,
            where.kind,
            where.owner_id,
            where.open,
            where.due_before,
            where.reminded,
            where.search,
            min(where.limit, MAX_ROWS),
            where.offset,
        )
    )


async def find_activity(
    connection: asyncpg.Connection, activity_id: int, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE OF a" if for_update else ""
    return await connection.fetchrow(f"{_ACTIVITIES} WHERE a.activity_id = $1{lock}", activity_id)


async def insert_activity(connection: asyncpg.Connection, values: dict[str, Any]) -> int:
    activity_id: int = await connection.fetchval(
        _INSERT,
        values["lead_id"],
        values["deal_id"],
        values["kind"],
        values["subject"],
        values["body"],
        values["due_at"],
        values["remind_at"],
        values["owner_id"],
    )
    return activity_id


async def update_activity(connection: asyncpg.Connection, activity_id: int, values: dict[str, Any]) -> None:
    await connection.execute(_UPDATE, activity_id, *(values[column] for column in EDITABLE))


async def fire_due_reminders(connection: asyncpg.Connection, now: datetime) -> list[asyncpg.Record]:
    """Mark every open activity whose reminder time has come as reminded (migration 1400's
    crm_fire_due_reminders, across every owner); returns them."""
    return list(await connection.fetch("SELECT * FROM crm_fire_due_reminders($1)", now))
