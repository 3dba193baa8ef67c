"""Who a token belongs to, checked against PostgreSQL on every request.

A session or key counts only while it is unrevoked and unexpired (a session also while used within the idle
timeout), its user is active, and one of the user's access windows covers now: a suspension, a revoked
window or a revoked session refuses the very next request. The same statement records the use (at most
once a minute per session or key, to keep requests free of writes).
"""

from datetime import timedelta

import asyncpg

from windhash_common.access.credentials import PresentedToken, well_formed
from windhash_common.access.identity import CredentialKind, Identity
from windhash_common.access.roles import Role, key_roles_for

# The one definition of "may act now", shared with the login (accounts.login) and the admin views.
USER_MAY_ACT_SQL = """u.status = 'active' AND EXISTS (
    SELECT 1 FROM user_access AS a
    WHERE a.user_id = u.id AND a.starts_at <= now() AND (a.ends_at IS NULL OR a.ends_at > now()))"""

_SESSION = f"""
WITH found AS (
    SELECT s.id AS session_id, u.id AS user_id, u.email, u.role, u.client_id, u.must_change_password
    FROM sessions AS s JOIN users AS u ON u.id = s.user_id
    WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
      AND s.last_seen_at > now() - $2::interval AND {USER_MAY_ACT_SQL}
), touched AS (
    UPDATE sessions SET last_seen_at = now() FROM found
    WHERE sessions.id = found.session_id AND sessions.last_seen_at < now() - interval '1 minute'
)
SELECT * FROM found
"""

_API_KEY = f"""
WITH found AS (
    SELECT k.id AS api_key_id, k.role AS key_role, u.id AS user_id, u.email, u.role, u.client_id
    FROM api_keys AS k JOIN users AS u ON u.id = k.user_id
    WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
      AND {USER_MAY_ACT_SQL}
), touched AS (
    UPDATE api_keys SET last_used_at = now() FROM found
    WHERE api_keys.id = found.api_key_id
      AND (api_keys.last_used_at IS NULL OR api_keys.last_used_at < now() - interval '1 minute')
)
SELECT * FROM found
"""


async def identity_of(
    connection: asyncpg.Connection, token: PresentedToken, session_idle: timedelta
) -> Identity | None:
    """The identity `token` stands for right now, or None (unknown, revoked, expired, idle, suspended, or
    outside every access window)."""
    if not well_formed(token.token):
        return None
    if token.is_api_key:
        row = await connection.fetchrow(_API_KEY, token.digest)
        if row is None:
            return None
        key_role, user_role = Role(row["key_role"]), Role(row["role"])
        if key_role not in key_roles_for(user_role):
            return None  # the user was demoted below the key's role since the key was made
        return Identity(
            kind=CredentialKind.API_KEY,
            user_id=row["user_id"],
            email=row["email"],
            role=key_role,
            client_id=row["client_id"] if key_role is Role.CLIENT else None,
            api_key_id=row["api_key_id"],
        )
    row = await connection.fetchrow(_SESSION, token.digest, session_idle)
    if row is None:
        return None
    return Identity(
        kind=CredentialKind.SESSION,
        user_id=row["user_id"],
        email=row["email"],
        role=Role(row["role"]),
        client_id=row["client_id"],
        session_id=row["session_id"],
        must_change_password=row["must_change_password"],
        via_cookie=token.via_cookie,
    )
