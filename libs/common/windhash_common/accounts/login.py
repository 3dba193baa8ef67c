"""Logging in: the password check, the brute-force defence and the login record of every attempt.

Every attempt, whatever its outcome, does the same work in the same order: the lockout check, the account
lookup, one argon2 verification (against a stand-in hash when no account has the email), the record. An
unknown email and a wrong password get the same answer (`bad_credentials`) and cost the same time, and the
lockout counts failures per email whether or not an account has it, so no answer tells whether an account
exists. Only after the right password is it said that an account is suspended or has no access now.

The lockout: `auth_lockout_account_failures` failures for one email since its last success, or
`auth_lockout_address_failures` from one address, within the window, lock that email or address for
base × 2^(failures − limit) (lockout.py); attempts while locked are refused without checking the password and
recorded (`locked`), and each lock imposed is written to the audit trail.
"""

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

import asyncpg

from windhash_common.access.roles import Role
from windhash_common.access.settings import AccessSettings
from windhash_common.accounts import passwords
from windhash_common.accounts.client_address import ClientInfo
from windhash_common.accounts.lockout import LockoutPolicy, locked_until
from windhash_common.accounts.sessions import open_session
from windhash_common.accounts.users import find_credentials, normalised_email
from windhash_common.audit import SYSTEM, Actor, record_audit
from windhash_common.topics import Topics

_MAX_EMAIL = 320


class LoginOutcome(StrEnum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"
    SUSPENDED = "suspended"
    NO_ACCESS = "no_access"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user_id: UUID | None = None
    role: Role | None = None
    client_id: UUID | None = None
    token: str | None = None
    must_change_password: bool = False
    retry_after: timedelta | None = None


_EMAIL_FAILURES = """
SELECT count(*) AS failures, max(attempted_at) AS last_failure FROM login_records
WHERE email = $1 AND outcome = 'bad_credentials' AND attempted_at > now() - $2::interval
  AND attempted_at > coalesce(
      (SELECT max(attempted_at) FROM login_records WHERE email = $1 AND success), '-infinity')
"""
_ADDRESS_FAILURES = """
SELECT count(*) AS failures, max(attempted_at) AS last_failure FROM login_records
WHERE ip = $1::inet AND outcome = 'bad_credentials' AND attempted_at > now() - $2::interval
"""
_RECORD = """
INSERT INTO login_records (email, user_id, success, outcome, ip, city, country, user_agent)
VALUES ($1, $2, $3, $4, $5::inet, $6, $7, $8)
"""


def _policies(settings: AccessSettings) -> tuple[LockoutPolicy, LockoutPolicy]:
    base, longest = (
        timedelta(seconds=settings.auth_lockout_base_seconds),
        timedelta(seconds=settings.auth_lockout_max_seconds),
    )
    return (
        LockoutPolicy(settings.auth_lockout_account_failures, base, longest),
        LockoutPolicy(settings.auth_lockout_address_failures, base, longest),
    )


async def _lock(
    connection: asyncpg.Connection, email: str, client: ClientInfo, settings: AccessSettings
) -> tuple[datetime | None, datetime | None]:
    """Until when the email and the address are locked (None: not locked)."""
    window = timedelta(minutes=settings.auth_lockout_window_minutes)
    account, address = _policies(settings)
    by_email = await connection.fetchrow(_EMAIL_FAILURES, email, window)
    email_lock = locked_until(by_email["failures"], by_email["last_failure"], account)
    address_lock = None
    if client.address is not None:
        by_address = await connection.fetchrow(_ADDRESS_FAILURES, client.address, window)
        address_lock = locked_until(by_address["failures"], by_address["last_failure"], address)
    return email_lock, address_lock


async def log_in(
    pool: asyncpg.Pool,
    topics: Topics,
    settings: AccessSettings,
    email: str,
    password: str,
    client: ClientInfo,
) -> LoginResult:
    email = normalised_email(email)[:_MAX_EMAIL]
    async with pool.acquire() as connection:
        now = await connection.fetchval("SELECT now()")
        email_lock, address_lock = await _lock(connection, email, client, settings)
        user = await find_credentials(connection, email)
    locks = [lock for lock in (email_lock, address_lock) if lock is not None and lock > now]
    if locks:
        async with pool.acquire() as connection:
            await _record(connection, email, user["id"] if user else None, LoginOutcome.LOCKED, client)
        return LoginResult(LoginOutcome.LOCKED, retry_after=max(locks) - now)
    if user is None:
        verified = await asyncio.to_thread(passwords.verify_for_unknown_user, password)
    else:
        verified = await asyncio.to_thread(passwords.verify_password, user["password_hash"], password)
    async with pool.acquire() as connection, connection.transaction():
        if not verified:
            await _record(
                connection, email, user["id"] if user else None, LoginOutcome.BAD_CREDENTIALS, client
            )
            await _audit_new_locks(connection, topics, settings, email, client, (email_lock, address_lock))
            return LoginResult(LoginOutcome.BAD_CREDENTIALS)
        assert user is not None
        if user["status"] != "active":
            await _record(connection, email, user["id"], LoginOutcome.SUSPENDED, client)
            return LoginResult(LoginOutcome.SUSPENDED, user["id"])
        if not user["may_act_now"]:
            await _record(connection, email, user["id"], LoginOutcome.NO_ACCESS, client)
            return LoginResult(LoginOutcome.NO_ACCESS, user["id"])
        if passwords.needs_rehash(user["password_hash"]):
            new_hash = await asyncio.to_thread(passwords.hash_password, password)
            await connection.execute(
                "UPDATE users SET password_hash = $2 WHERE id = $1", user["id"], new_hash
            )
        token, _ = await open_session(
            connection,
            user["id"],
            timedelta(hours=settings.auth_session_hours),
            client.address,
            client.user_agent,
        )
        await _record(connection, email, user["id"], LoginOutcome.OK, client)
        return LoginResult(
            LoginOutcome.OK,
            user["id"],
            Role(user["role"]),
            user["client_id"],
            token,
            user["must_change_password"],
        )


async def _record(
    connection: asyncpg.Connection,
    email: str,
    user_id: UUID | None,
    outcome: LoginOutcome,
    client: ClientInfo,
) -> None:
    await connection.execute(
        _RECORD,
        email,
        user_id,
        outcome is LoginOutcome.OK,
        outcome.value,
        client.address,
        client.city,
        client.country,
        client.user_agent,
    )


async def _audit_new_locks(
    connection: asyncpg.Connection,
    topics: Topics,
    settings: AccessSettings,
    email: str,
    client: ClientInfo,
    before: tuple[datetime | None, datetime | None],
) -> None:
    """After a failure is recorded: a lock it imposed (or lengthened) goes to the audit trail."""
    after = await _lock(connection, email, client, settings)
    actor = Actor(SYSTEM.name, ip=client.address)
    for target_type, target_id, was, now in (
        ("login-email", email, before[0], after[0]),
        ("login-address", client.address, before[1], after[1]),
    ):
        if now is not None and now != was:
            await record_audit(
                connection,
                topics,
                actor,
                "login.lockout",
                target_type,
                target_id,
                None,
                {"locked_until": now},
            )
