"""Least privilege in PostgreSQL: passwords (SCRAM) for every connection, the owner owns the schema, and each
service role holds exactly the privileges db_privileges declares, on every table the migrations make."""

import uuid
from urllib.parse import urlsplit

import asyncpg
import pytest
from windhash_common.db import MigrationsPending, migrate_database
from windhash_common.db_privileges import ACL_PRIVILEGES, TABLE_PRIVILEGES
from windhash_common.db_roles import SERVICE_ROLES, DatabaseRole, dsn_as
from windhash_stack import StackEndpoints

pytestmark = pytest.mark.integration


async def test_every_table_has_declared_privileges_and_the_database_holds_exactly_them(pg_dsn: str) -> None:
    connection = await asyncpg.connect(pg_dsn)
    try:
        tables = {
            row[0]
            for row in await connection.fetch(
                "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
            )
        }
        assert tables - set(TABLE_PRIVILEGES) == set(), (
            "tables without a line in db_privileges.TABLE_PRIVILEGES"
        )
        assert set(TABLE_PRIVILEGES) - tables == set(), "declared tables the migrations do not make"
        held = await connection.fetch(
            "SELECT c.relname AS table_name, r.rolname AS role, a.privilege_type AS privilege"
            " FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
            " CROSS JOIN LATERAL aclexplode(c.relacl) AS a JOIN pg_roles AS r ON r.oid = a.grantee"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
            " AND r.rolname = ANY($1)",
            [role.value for role in SERVICE_ROLES],
        )
        actual = {(row["table_name"], row["role"], row["privilege"]) for row in held}
        declared = {
            (table, role.value, ACL_PRIVILEGES[letter])
            for table, grants in TABLE_PRIVILEGES.items()
            for role, letters in grants.items()
            for letter in letters
        }
        assert actual == declared
        owners = {
            row[0]
            for row in await connection.fetch(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
            )
        }
        assert owners == {DatabaseRole.OWNER.value}
    finally:
        await connection.close()


async def test_no_service_role_is_privileged_and_every_password_is_a_scram_verifier(pg_dsn: str) -> None:
    connection = await asyncpg.connect(pg_dsn)
    try:
        rows = await connection.fetch(
            "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication, rolpassword"
            " FROM pg_authid WHERE rolname LIKE 'windhash%'"
        )
        for row in rows:
            assert row["rolpassword"].startswith("SCRAM-SHA-256$"), row["rolname"]
            if row["rolname"] != "windhash":  # the bootstrap superuser: the stack's and migrations' only
                assert not any(
                    row[flag]
                    for flag in ("rolsuper", "rolbypassrls", "rolcreaterole", "rolcreatedb", "rolreplication")
                ), row["rolname"]
        assert {row["rolname"] for row in rows} >= {role.value for role in DatabaseRole}
    finally:
        await connection.close()


async def test_a_connection_without_the_password_is_refused_even_on_loopback(pg_dsn: str) -> None:
    bare = urlsplit(pg_dsn)._replace(query="").geturl()
    for role in ("windhash", DatabaseRole.API.value):
        with pytest.raises((asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)):
            await asyncpg.connect(dsn_as(bare, role), passfile="/nonexistent", password="wrong password")
    connection = await asyncpg.connect(pg_dsn)
    try:
        rules = await connection.fetch("SELECT type, auth_method FROM pg_hba_file_rules WHERE error IS NULL")
        assert {row["auth_method"] for row in rules} == {"scram-sha-256"}
    finally:
        await connection.close()


async def test_the_api_reads_the_analytics_and_writes_only_accounts_and_never_rewrites_the_audit_trail(
    pg_dsn: str,
) -> None:
    api = await asyncpg.connect(dsn_as(pg_dsn, DatabaseRole.API))
    try:
        assert await api.fetchval("SELECT count(*) FROM miner_models") > 0
        for statement in (
            "INSERT INTO btc_prices (price_date, source) VALUES ('2024-01-01', 'x')",
            "DELETE FROM curtailment_daily",
            "UPDATE miner_models SET active = false",
            "TRUNCATE bitcoin_calculations",
            "UPDATE audit_log SET actor = 'someone else'",
            "DELETE FROM audit_log",
            "DELETE FROM login_records",
            "CREATE TABLE mine (x int)",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await api.execute(statement)
    finally:
        await api.close()


async def test_each_writer_is_refused_outside_its_own_tables(pg_dsn: str) -> None:
    refused = [
        (DatabaseRole.CALCULATOR, "DELETE FROM curtailment_daily"),
        (DatabaseRole.AGGREGATOR, "DELETE FROM bitcoin_calculations"),
        (DatabaseRole.INGESTOR, "SELECT count(*) FROM users"),
        (DatabaseRole.CALCULATOR, "SELECT count(*) FROM sessions"),
        (DatabaseRole.AGGREGATOR, "INSERT INTO audit_log (actor) VALUES ('x')"),
        (DatabaseRole.MARKET, "DELETE FROM hosting_miners"),
        (DatabaseRole.FLEET, "DELETE FROM btc_prices"),
        (DatabaseRole.RECONCILER, "SELECT count(*) FROM api_keys"),
        (DatabaseRole.MARKET, "SELECT drop_miner_telemetry_partitions_before('2024-01-01')"),
        (DatabaseRole.OPERATOR, "DELETE FROM audit_log"),
    ]
    for role, statement in refused:
        connection = await asyncpg.connect(dsn_as(pg_dsn, role))
        try:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(statement)
        finally:
            await connection.close()


async def test_the_operators_cli_sees_every_client_row_without_a_request_identity(pg_dsn: str) -> None:
    superuser = await asyncpg.connect(pg_dsn)
    operator = await asyncpg.connect(dsn_as(pg_dsn, DatabaseRole.OPERATOR))
    try:
        await superuser.execute("INSERT INTO clients (name) VALUES ('Acme'), ('Blue Ridge')")
        assert await operator.fetchval("SELECT count(*) FROM clients") == 2
    finally:
        await superuser.close()
        await operator.close()


async def test_a_service_refuses_to_start_on_a_schema_it_may_not_bring_forward(stack: StackEndpoints) -> None:
    name = f"t_{uuid.uuid4().hex}"
    admin = await asyncpg.connect(stack.postgres_dsn)
    await admin.execute(f'CREATE DATABASE "{name}" OWNER {DatabaseRole.OWNER.value}')
    try:
        dsn = urlsplit(stack.postgres_dsn)._replace(path=f"/{name}").geturl()
        with pytest.raises(MigrationsPending, match="windhash db migrate"):
            await migrate_database(dsn_as(dsn, DatabaseRole.API))
        applied = await migrate_database(dsn_as(dsn, DatabaseRole.OWNER))  # migrations as the owner
        assert applied
        assert await migrate_database(dsn_as(dsn, DatabaseRole.API)) == []  # now current: the service starts
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
