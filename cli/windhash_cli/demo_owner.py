"""The demo's accounts: the owner, made (or given a new one-time password) on every `windhash demo`, so a
person can log in to the dashboard right away (the password is printed once and must be changed at first
login); and the staff accounts the demo's own scripted steps log in as (`demo_staff`). Every change to them
is audited as any account change is (`windhash_common.accounts.users`)."""

from dataclasses import dataclass

import asyncpg
from windhash_common.access.roles import Role
from windhash_common.accounts import passwords
from windhash_common.accounts import users as accounts
from windhash_common.audit import cli_actor
from windhash_common.settings import CommonSettings

DEMO_OWNER_EMAIL = "demo-owner@windhash.example"


@dataclass(frozen=True)
class DemoOwner:
    email: str
    one_time_password: str


async def ensure_demo_account(dsn: str, email: str, name: str, role: Role, must_change_password: bool) -> str:
    """The account `email` (made with `role` if it is missing, looked up by its email otherwise) with a new
    random password and access now: the password, for whoever logs in next."""
    password = passwords.one_time_password()
    password_hash = passwords.hash_password(password)
    topics = CommonSettings().topics
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            actor = cli_actor()
            found = await accounts.find_user_by_email(connection, email)
            if found is None:
                await accounts.create_user(
                    connection,
                    topics,
                    actor,
                    email=email,
                    name=name,
                    role=role,
                    client_id=None,
                    password_hash=password_hash,
                    must_change_password=must_change_password,
                    access_until=None,
                )
            else:
                await accounts.set_password(
                    connection, topics, actor, found["id"], password_hash, must_change_password
                )
                if not found["may_act_now"]:
                    await accounts.grant_access(connection, topics, actor, found["id"], None, None)
    finally:
        await connection.close()
    return password


async def ensure_demo_owner(dsn: str) -> DemoOwner:
    password = await ensure_demo_account(dsn, DEMO_OWNER_EMAIL, "Demo owner", Role.OWNER, True)
    return DemoOwner(DEMO_OWNER_EMAIL, password)
