"""The demo's owner account: made (or given a new one-time password) on every `windhash demo`, so a person
can log in to the dashboard right away. The password is printed once and must be changed at first login."""

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


async def ensure_demo_owner(dsn: str) -> DemoOwner:
    one_time = passwords.one_time_password()
    password_hash = passwords.hash_password(one_time)
    topics = CommonSettings().topics
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            actor = cli_actor()
            found = await accounts.find_user_by_email(connection, DEMO_OWNER_EMAIL)
            if found is None:
                await accounts.create_user(
                    connection,
                    topics,
                    actor,
                    email=DEMO_OWNER_EMAIL,
                    name="Demo owner",
                    role=Role.OWNER,
                    client_id=None,
                    password_hash=password_hash,
                    must_change_password=True,
                    access_until=None,
                )
            else:
                await accounts.set_password(connection, topics, actor, found["id"], password_hash, True)
                if not found["may_act_now"]:
                    await accounts.grant_access(connection, topics, actor, found["id"], None, None)
    finally:
        await connection.close()
    return DemoOwner(DEMO_OWNER_EMAIL, one_time)
