"""Reading the login records and the audit trail (admins only, through the API or the CLI)."""

from dataclasses import dataclass
from datetime import datetime

import asyncpg

MAX_ROWS = 1000


@dataclass(frozen=True)
class LoginRecordFilter:
    email: str | None = None
    address: str | None = None
    success: bool | None = None
    since: datetime | None = None
    limit: int = 100


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    limit: int = 100


_LOGIN_RECORDS = """
SELECT id, attempted_at, email, user_id, success, outcome, host(ip) AS ip, city, country, user_agent
FROM login_records
WHERE ($1::text IS NULL OR email = lower($1)) AND ($2::inet IS NULL OR ip = $2::inet)
  AND ($3::boolean IS NULL OR success = $3) AND ($4::timestamptz IS NULL OR attempted_at >= $4)
ORDER BY attempted_at DESC, id DESC LIMIT $5
"""

_AUDIT = """
SELECT id, occurred_at, actor, actor_user_id, action, target_type, target_id, before::text AS before,
       after::text AS after, host(ip) AS ip
FROM audit_log
WHERE ($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR action = $2)
  AND ($3::text IS NULL OR target_type = $3) AND ($4::text IS NULL OR target_id = $4)
  AND ($5::timestamptz IS NULL OR occurred_at >= $5)
ORDER BY occurred_at DESC, id DESC LIMIT $6
"""


async def login_records(connection: asyncpg.Connection, where: LoginRecordFilter) -> list[asyncpg.Record]:
    return list(
        await connection.fetch(
            _LOGIN_RECORDS,
            where.email,
            where.address,
            where.success,
            where.since,
            min(where.limit, MAX_ROWS),
        )
    )


async def audit_trail(connection: asyncpg.Connection, where: AuditFilter) -> list[asyncpg.Record]:
    return list(
        await connection.fetch(
            _AUDIT,
            where.actor,
            where.action,
            where.target_type,
            where.target_id,
            where.since,
            min(where.limit, MAX_ROWS),
        )
    )
