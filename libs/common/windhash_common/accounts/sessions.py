"""Sessions and API keys: issued once (the token is returned to its holder and never again), stored as
SHA-256 digests, revocable; every issue and revocation of a key is audited (logins are in login_records)."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from windhash_common.access.credentials import new_api_key, new_session_token, token_digest
from windhash_common.access.roles import Role, key_roles_for
from windhash_common.audit import Actor, record_audit
from windhash_common.topics import Topics

_KEY_PREFIX_SHOWN = 10

SESSION_COLUMNS = (
    "id, user_id, created_at, last_seen_at, expires_at, revoked_at, revoked_reason, host(ip) AS ip,"
    " user_agent"
)
KEY_COLUMNS = (
    "k.id, k.user_id, u.email, k.name, k.role, k.prefix, k.created_at, k.expires_at, k.last_used_at,"
    " k.revoked_at"
)


async def open_session(
    connection: asyncpg.Connection,
    user_id: UUID,
    lifetime: timedelta,
    ip: str | None,
    user_agent: str | None,
) -> tuple[str, asyncpg.Record]:
    """A new session for the user: its token (for the holder only) and its row."""
    token = new_session_token()
    row = await connection.fetchrow(
        "INSERT INTO sessions (user_id, token_hash, expires_at, ip, user_agent)"
        f" VALUES ($1, $2, now() + $3::interval, $4::inet, $5) RETURNING {SESSION_COLUMNS}",
        user_id,
        token_digest(token),
        lifetime,
        ip,
        user_agent,
    )
    return token, row


async def user_sessions(
    connection: asyncpg.Connection, user_id: UUID, open_only: bool
) -> list[asyncpg.Record]:
    return list(
        await connection.fetch(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1"
            " AND (NOT $2 OR (revoked_at IS NULL AND expires_at > now())) ORDER BY created_at DESC LIMIT 200",
            user_id,
            open_only,
        )
    )


async def close_session(
    connection: asyncpg.Connection, topics: Topics, actor: Actor, session_id: UUID, reason: str
) -> bool:
    """Revoke one session (logout); False if it was not open."""
    user_id = await connection.fetchval(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = $2"
        " WHERE id = $1 AND revoked_at IS NULL RETURNING user_id",
        session_id,
        reason,
    )
    if user_id is None:
        return False
    await audit_revoked_sessions(connection, topics, actor, user_id, [session_id], reason)
    return True


async def audit_revoked_sessions(
    connection: asyncpg.Connection,
    topics: Topics,
    actor: Actor,
    user_id: UUID,
    session_ids: Sequence[UUID],
    reason: str,
) -> None:
    """One audit entry on the account: these sessions of it were revoked, and why."""
    change = {"sessions": [str(session_id) for session_id in session_ids], "reason": reason}
    await record_audit(connection, topics, actor, "session.revoke", "user", str(user_id), None, change)


class KeyRefused(ValueError):
    pass


async def create_api_key(
    connection: asyncpg.Connection,
    topics: Topics,
    actor: Actor,
    user_id: UUID,
    name: str,
    role: Role,
    expires_at: datetime | None,
) -> tuple[str, asyncpg.Record]:
    """A key for the user with `role` (the user's own or a lesser one): the key, shown once, and its row."""
    user_role = await connection.fetchval("SELECT role FROM users WHERE id = $1", user_id)
    if user_role is None:
        raise KeyRefused(f"no account has the id {user_id}")
    if role not in key_roles_for(Role(user_role)):
        allowed = ", ".join(sorted(key_roles_for(Role(user_role))))
        raise KeyRefused(f"a key of a {user_role} account may have the role {allowed}, not {role}")
    if await connection.fetchval(
        "SELECT 1 FROM api_keys WHERE user_id = $1 AND name = $2 AND revoked_at IS NULL",
        user_id,
        name.strip(),
    ):
        raise KeyRefused(f"that account already has a key named {name.strip()!r}")
    key = new_api_key()
    key_id = await connection.fetchval(
        "INSERT INTO api_keys (user_id, name, role, key_hash, prefix, created_by, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        user_id,
        name.strip(),
        role.value,
        token_digest(key),
        key[:_KEY_PREFIX_SHOWN],
        actor.user_id,
        expires_at,
    )
    row = await connection.fetchrow(
        f"SELECT {KEY_COLUMNS} FROM api_keys AS k JOIN users AS u ON u.id = k.user_id WHERE k.id = $1", key_id
    )
    after = {
        "user_id": user_id,
        "name": row["name"],
        "role": row["role"],
        "prefix": row["prefix"],
        "expires_at": expires_at,
    }
    await record_audit(connection, topics, actor, "api-key.create", "api-key", str(key_id), None, after)
    return key, row


async def list_api_keys(connection: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(
        await connection.fetch(
            f"SELECT {KEY_COLUMNS} FROM api_keys AS k JOIN users AS u ON u.id = k.user_id"
            " ORDER BY k.revoked_at IS NOT NULL, u.email, k.name"
        )
    )


async def api_key_owner_role(connection: asyncpg.Connection, key_id: UUID) -> str | None:
    role: str | None = await connection.fetchval(
        "SELECT u.role FROM api_keys AS k JOIN users AS u ON u.id = k.user_id WHERE k.id = $1", key_id
    )
    return role


async def revoke_api_key(connection: asyncpg.Connection, topics: Topics, actor: Actor, key_id: UUID) -> bool:
    revoked = await connection.fetchrow(
        "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING name, role",
        key_id,
    )
    if revoked is None:
        return False
    await record_audit(
        connection,
        topics,
        actor,
        "api-key.revoke",
        "api-key",
        str(key_id),
        {"name": revoked["name"], "role": revoked["role"], "revoked": False},
        {"revoked": True},
    )
    return True
