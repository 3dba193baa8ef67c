"""Accounts, client organisations and access windows: every change audited in its own transaction.

Each function that changes something takes the connection in an open transaction (the caller's: the API's
identity transaction, or the CLI's), the actor and the topics, and records the change with `record_audit`.
Who may do what is not decided here but by the permission table and `roles.may_manage`, which the callers
(the API's routes, the CLI) apply.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from windhash_common.access.identity_queries import USER_MAY_ACT_SQL
from windhash_common.access.roles import Role, UserStatus
from windhash_common.accounts.sessions import audit_revoked_sessions
from windhash_common.audit import Actor, record_audit
from windhash_common.topics import Topics

USER_COLUMNS = (
    "u.id, u.email, u.name, u.role, u.status, u.client_id, c.name AS client_name, u.must_change_password,"
    f" u.created_at, u.updated_at, ({USER_MAY_ACT_SQL}) AS may_act_now"
)
_USERS = f"SELECT {USER_COLUMNS} FROM users AS u LEFT JOIN clients AS c ON c.id = u.client_id"


class AccountError(ValueError):
    """A change that cannot be made (duplicate email, unknown organisation…); the message says why."""


def normalised_email(email: str) -> str:
    return email.strip().lower()


def _state(row: asyncpg.Record | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {key: row[key] for key in ("email", "name", "role", "status", "client_id", "must_change_password")}


async def find_user(connection: asyncpg.Connection, user_id: UUID) -> asyncpg.Record | None:
    return await connection.fetchrow(f"{_USERS} WHERE u.id = $1", user_id)


async def find_user_by_email(connection: asyncpg.Connection, email: str) -> asyncpg.Record | None:
    return await connection.fetchrow(f"{_USERS} WHERE u.email = $1", normalised_email(email))


async def find_credentials(connection: asyncpg.Connection, email: str) -> asyncpg.Record | None:
    """What a login needs: the hash (never leaves accounts code), status and whether the account may act."""
    return await connection.fetchrow(
        "SELECT u.id, u.role, u.client_id, u.password_hash, u.status, u.must_change_password,"
        f" ({USER_MAY_ACT_SQL}) AS may_act_now"
        " FROM users AS u WHERE u.email = $1",
        normalised_email(email),
    )


async def list_users(connection: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(await connection.fetch(f"{_USERS} ORDER BY u.email"))


async def create_user(
    connection: asyncpg.Connection,
    topics: Topics,
    actor: Actor,
    *,
    email: str,
    name: str,
    role: Role,
    client_id: UUID | None,
    password_hash: str,
    must_change_password: bool,
    access_until: datetime | None,
) -> asyncpg.Record:
    """A new active account with an access window from now (until `access_until`, or until revoked)."""
    if (role is Role.CLIENT) != (client_id is not None):
        raise AccountError("a client account needs its organisation, and only a client account has one")
    if await find_user_by_email(connection, email) is not None:
        raise AccountError(f"an account with the email {normalised_email(email)} exists already")
    if client_id is not None and not await connection.fetchval(
        "SELECT 1 FROM clients WHERE id = $1", client_id
    ):
        raise AccountError(f"no client organisation has the id {client_id}")
    user_id = await connection.fetchval(
        "INSERT INTO users (email, name, role, client_id, password_hash, must_change_password)"
        " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        normalised_email(email),
        name.strip(),
        role.value,
        client_id,
        password_hash,
        must_change_password,
    )
    created = await find_user(connection, user_id)
    await record_audit(connection, topics, actor, "user.create", "user", str(user_id), None, _state(created))
    await grant_access(connection, topics, actor, user_id, None, access_until)
    result = await find_user(connection, user_id)
    assert result is not None
    return result


async def update_user(
    connection: asyncpg.Connection, topics: Topics, actor: Actor, user_id: UUID, changes: dict[str, Any]
) -> asyncpg.Record:
    """Change name, role, status or client_id; a suspension also revokes every session of the account."""
    before = await connection.fetchrow(f"{_USERS} WHERE u.id = $1 FOR UPDATE OF u", user_id)
    if before is None:
        raise AccountError(f"no account has the id {user_id}")
    allowed = {"name", "role", "status", "client_id"}
    if unknown := set(changes) - allowed:
        raise AccountError(f"cannot change {', '.join(sorted(unknown))}")
    merged = {key: before[key] for key in allowed} | changes
    if (merged["role"] == Role.CLIENT.value) != (merged["client_id"] is not None):
        raise AccountError("a client account needs its organisation, and only a client account has one")
    await connection.execute(
        "UPDATE users SET name = $2, role = $3, status = $4, client_id = $5, updated_at = now()"
        " WHERE id = $1",
        user_id,
        merged["name"].strip(),
        str(merged["role"]),
        str(merged["status"]),
        merged["client_id"],
    )
    after = await find_user(connection, user_id)
    assert after is not None
    await record_audit(
        connection, topics, actor, "user.update", "user", str(user_id), _state(before), _state(after)
    )
    if merged["status"] == UserStatus.SUSPENDED.value and before["status"] != UserStatus.SUSPENDED.value:
        await revoke_sessions(connection, topics, actor, user_id, "account suspended")
    return after


async def set_password(
    connection: asyncpg.Connection,
    topics: Topics,
    actor: Actor,
    user_id: UUID,
    password_hash: str,
    must_change_password: bool,
    keep_session: UUID | None = None,
) -> None:
    """A new password hash; every other session of the account is revoked (ASVS 3.3.3)."""
    changed = await connection.fetchval(
        "UPDATE users SET password_hash = $2, must_change_password = $3, updated_at = now()"
        " WHERE id = $1 RETURNING id",
        user_id,
        password_hash,
        must_change_password,
    )
    if changed is None:
        raise AccountError(f"no account has the id {user_id}")
    action = "user.password-reset" if must_change_password else "user.password-change"
    await record_audit(
        connection,
        topics,
        actor,
        action,
        "user",
        str(user_id),
        None,
        {"must_change_password": must_change_password},
    )
    await revoke_sessions(connection, topics, actor, user_id, action, keep=keep_session)


async def revoke_sessions(
    connection: asyncpg.Connection,
    topics: Topics,
    actor: Actor,
    user_id: UUID,
    reason: str,
    keep: UUID | None = None,
) -> int:
    """Revoke every open session of the account (but `keep`); returns how many."""
    revoked = await connection.fetch(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = $2"
        " WHERE user_id = $1 AND revoked_at IS NULL AND id IS DISTINCT FROM $3 RETURNING id",
        user_id,
        reason,
        keep,
    )
    if revoked:
        await audit_revoked_sessions(
            connection, topics, actor, user_id, [row["id"] for row in revoked], reason
        )
    return len(revoked)


async def grant_access(
    connection: asyncpg.Connection,
    topics: Topics,
    actor: Actor,
    user_id: UUID,
    starts_at: datetime | None,
    ends_at: datetime | None,
) -> asyncpg.Record:
    """Open an access window (from now when no start is given; until revoked when no end is)."""
    row = await connection.fetchrow(
        "INSERT INTO user_access (user_id, starts_at, ends_at, granted_by, granted_via)"
        " VALUES ($1, coalesce($2, now()), $3, $4, $5)"
        " RETURNING id, user_id, starts_at, ends_at, granted_via",
        user_id,
        starts_at,
        ends_at,
        actor.user_id,
        actor.name,
    )
    after = {"window": row["id"], "starts_at": row["starts_at"], "ends_at": row["ends_at"]}
    await record_audit(connection, topics, actor, "access.grant", "user", str(user_id), None, after)
    return row


async def revoke_access(connection: asyncpg.Connection, topics: Topics, actor: Actor, user_id: UUID) -> int:
    """End every window that is open now or starts later, and revoke the account's sessions."""
    ended = await connection.fetch(
        "UPDATE user_access SET ends_at = greatest(starts_at, now())"
        " WHERE user_id = $1 AND (ends_at IS NULL OR ends_at > now())"
        " RETURNING id, starts_at, ends_at",
        user_id,
    )
    if ended:
        windows = [{"window": row["id"], "ends_at": row["ends_at"]} for row in ended]
        await record_audit(
            connection, topics, actor, "access.revoke", "user", str(user_id), None, {"windows": windows}
        )
    await revoke_sessions(connection, topics, actor, user_id, "access revoked")
    return len(ended)


async def access_windows(connection: asyncpg.Connection, user_id: UUID) -> list[asyncpg.Record]:
    return list(
        await connection.fetch(
            "SELECT a.id, a.starts_at, a.ends_at, a.granted_via, a.created_at,"
            " (a.starts_at <= now() AND (a.ends_at IS NULL OR a.ends_at > now())) AS current"
            " FROM user_access AS a WHERE a.user_id = $1 ORDER BY a.starts_at, a.id",
            user_id,
        )
    )


async def create_client(
    connection: asyncpg.Connection, topics: Topics, actor: Actor, name: str
) -> asyncpg.Record:
    if await connection.fetchval("SELECT 1 FROM clients WHERE lower(name) = lower($1)", name.strip()):
        raise AccountError(f"a client organisation named {name.strip()!r} exists already")
    row = await connection.fetchrow(
        "INSERT INTO clients (name) VALUES ($1) RETURNING id, name, created_at", name.strip()
    )
    await record_audit(
        connection, topics, actor, "client.create", "client", str(row["id"]), None, {"name": row["name"]}
    )
    return row


async def list_clients(connection: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every organisation the connection's identity may see (row-level security filters; no WHERE here)."""
    return list(await connection.fetch("SELECT id, name, created_at FROM clients ORDER BY name"))
