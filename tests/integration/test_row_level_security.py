"""Row-level security on the real PostgreSQL: a client's deliberately unfiltered SELECT returns only its own
organisation's rows, and the API's role can neither bypass the policies nor escape them by owning a table."""

from uuid import UUID

import asyncpg
import pytest
from test_accounts_support import Accounts, ApiClient, accounts_fixture, api_fixture  # type: ignore[import-not-found]  # noqa: F401
from windhash_common.access.identity import ANONYMOUS, CredentialKind, Identity
from windhash_common.access.request_identity import identity_transaction
from windhash_common.access.roles import Role
from windhash_common.db_roles import DatabaseRole, dsn_as

pytestmark = pytest.mark.integration


def client_identity(client_id: UUID) -> Identity:
    return Identity(kind=CredentialKind.SESSION, user_id=UUID(int=1), role=Role.CLIENT, client_id=client_id)


async def organisations(accounts: Accounts) -> dict[str, UUID]:
    await accounts.add("a@acme.example", Role.CLIENT, client="Acme")
    await accounts.add("b@blue.example", Role.CLIENT, client="Blue Ridge")
    await accounts.add("c@coal.example", Role.CLIENT, client="Coal Hill")
    rows = await accounts.superuser.fetch("SELECT name, id FROM clients")
    return {row["name"]: row["id"] for row in rows}


async def test_a_clients_unfiltered_select_returns_only_its_own_rows(pg_dsn: str, accounts: Accounts) -> None:
    clients = await organisations(accounts)
    pool = await asyncpg.create_pool(dsn_as(pg_dsn, DatabaseRole.API), min_size=1, max_size=2)
    try:
        async with identity_transaction(pool, client_identity(clients["Blue Ridge"])) as connection:
            seen = await connection.fetch("SELECT name FROM clients")  # no WHERE clause, on purpose
            assert [row["name"] for row in seen] == ["Blue Ridge"]
            others = await connection.execute(
                "UPDATE clients SET name = name || '!' WHERE name <> 'Blue Ridge'"
            )
            assert others == "UPDATE 0", "a client cannot even touch rows it cannot see"
        staff = Identity(kind=CredentialKind.SESSION, user_id=UUID(int=2), role=Role.USER)
        async with identity_transaction(pool, staff) as connection:
            assert await connection.fetchval("SELECT count(*) FROM clients") == 3
        for nobody in (
            ANONYMOUS,
            Identity(kind=CredentialKind.SESSION, user_id=UUID(int=3), role=Role.GUEST),
        ):
            async with identity_transaction(pool, nobody) as connection:
                assert await connection.fetchval("SELECT count(*) FROM clients") == 0
        async with pool.acquire() as connection:
            # Outside the helper no identity is set: nothing is visible, not everything.
            assert await connection.fetchval("SELECT count(*) FROM clients") == 0
    finally:
        await pool.close()


async def test_the_identity_never_outlives_its_transaction_on_a_pooled_connection(
    pg_dsn: str, accounts: Accounts
) -> None:
    clients = await organisations(accounts)
    pool = await asyncpg.create_pool(dsn_as(pg_dsn, DatabaseRole.API), min_size=1, max_size=1)
    try:
        async with identity_transaction(pool, client_identity(clients["Acme"])) as connection:
            assert await connection.fetchval("SELECT count(*) FROM clients") == 1
        async with pool.acquire() as connection:  # the same (only) connection, next user
            assert await connection.fetchval("SELECT current_setting('windhash.client_scope', true)") in (
                "",
                None,
            )
            assert await connection.fetchval("SELECT count(*) FROM clients") == 0
    finally:
        await pool.close()


async def test_a_client_cannot_write_a_row_for_another_organisation(pg_dsn: str, accounts: Accounts) -> None:
    clients = await organisations(accounts)
    pool = await asyncpg.create_pool(dsn_as(pg_dsn, DatabaseRole.API), min_size=1, max_size=1)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            async with identity_transaction(pool, client_identity(clients["Acme"])) as connection:
                await connection.execute("INSERT INTO clients (name) VALUES ('Somebody Else')")
    finally:
        await pool.close()


async def test_the_api_role_cannot_bypass_row_level_security_and_owns_nothing(pg_dsn: str) -> None:
    connection = await asyncpg.connect(dsn_as(pg_dsn, DatabaseRole.API))
    try:
        role = await connection.fetchrow(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles"
            " WHERE rolname = current_user"
        )
        assert dict(role) == {
            "rolsuper": False,
            "rolbypassrls": False,
            "rolcreaterole": False,
            "rolcreatedb": False,
        }
        owned = await connection.fetchval(
            "SELECT count(*) FROM pg_class"
            " WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
        assert owned == 0
        assert not await connection.fetchval("SELECT pg_has_role(current_user, 'windhash_owner', 'MEMBER')")
        protected = await connection.fetchval(
            "SELECT relrowsecurity AND NOT relforcerowsecurity FROM pg_class WHERE relname = 'clients'"
        )
        assert protected, "clients has row-level security (binding every role but its owner)"
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("ALTER TABLE clients DISABLE ROW LEVEL SECURITY")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("SET row_security = off; SELECT * FROM clients")
    finally:
        await connection.close()


async def test_clients_route_shows_a_client_only_its_organisation(api: ApiClient, accounts: Accounts) -> None:
    await organisations(accounts)
    token = await accounts.session("b@blue.example")
    response = await api.http.get("/api/v1/clients", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert [row["name"] for row in response.json()] == ["Blue Ridge"]
