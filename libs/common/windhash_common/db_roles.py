"""PostgreSQL roles: who connects as whom, and how the roles are created.

Least privilege (docs/ACCESS.md, "Database roles"): no service connects as a superuser. The superuser is used
only by the local stack (`windhash stack`) and by migrations where a deployment has no owner role yet;
`windhash_owner` owns every table and runs the migrations; each service connects as its own role with only the
privileges `db_privileges.TABLE_PRIVILEGES` gives it. The API's role is not the owner of any table and cannot
bypass row-level security.

Every role authenticates with a password (SCRAM-SHA-256): passwords are secrets (`SecretStr`), generated per
deployment (the local stack keeps them in its state dir, in a libpq password file) and never written in code.
A DSN names the role and, for the local stack, the password file (`?passfile=`), never the password itself.
"""

from collections.abc import Mapping
from enum import StrEnum
from urllib.parse import quote, urlsplit

import asyncpg
from pydantic import SecretStr


class DatabaseRole(StrEnum):
    OWNER = "windhash_owner"
    """Owns every table, function and sequence; runs the migrations. No service runs as it."""
    API = "windhash_api"
    """The HTTP API: reads the analytics, writes only the accounts tables; subject to row-level security."""
    INGESTOR = "windhash_ingestor"
    """The ingestor: progress, the BM unit registry, its dead letters."""
    CALCULATOR = "windhash_calculator"
    AGGREGATOR = "windhash_aggregator"
    RECONCILER = "windhash_reconciler"
    """The reconciler's self-check and repairs: it replays through the calculator's and aggregator's write
    paths, so it writes what a replay writes."""
    MARKET = "windhash_market"
    """The market service: snapshots, indicators, the daily prices it keeps current."""
    FLEET = "windhash_fleet"
    """The fleet's collector and telemetry writer: miners' status, telemetry, the operation log."""
    CRM = "windhash_crm"
    """The CRM service: serves its HTTP app under row-level security (like the API's role) and acts for no
    request only through the SECURITY DEFINER functions of migration 1400 (its scheduled jobs)."""
    OPERATOR = "windhash_operator"
    """The operator's command line: reference data, reconciliation, summaries repair, users and audit."""


SERVICE_ROLES: tuple[DatabaseRole, ...] = tuple(
    role for role in DatabaseRole if role is not DatabaseRole.OWNER
)
"""The roles services and the CLI connect as (all but the owner)."""

COMMAND_ROLES: dict[str, DatabaseRole] = {
    "api": DatabaseRole.API,
    "ingestor": DatabaseRole.INGESTOR,
    "ingest": DatabaseRole.INGESTOR,
    "calculator": DatabaseRole.CALCULATOR,
    "aggregator": DatabaseRole.AGGREGATOR,
    "reconciler": DatabaseRole.RECONCILER,
    "market": DatabaseRole.MARKET,
    "fleet": DatabaseRole.FLEET,
    "crm": DatabaseRole.CRM,
}
"""`windhash <command>` → the role that command runs as when the system launches it (demo, tests, compose)."""

# Every login role the system creates: no superuser, no role or database creation, no replication, and no
# row-level-security bypass (a role that must see every row gets a policy saying so, per table).
_ROLE_OPTIONS = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"


def dsn_as(dsn: str, role: str) -> str:
    """The same server, database and options (e.g. `passfile`) as `dsn`, connecting as `role`.
    A password written in `dsn` is dropped: it belongs to the other role."""
    parts = urlsplit(dsn)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return parts._replace(netloc=f"{quote(role, safe='')}@{host}{port}").geturl()


def role_of_command(command: str) -> DatabaseRole | None:
    return COMMAND_ROLES.get(command)


async def provision_roles(connection: asyncpg.Connection, passwords: Mapping[str, SecretStr]) -> list[str]:
    """Create (or update) each named login role with its password; returns the roles it created.

    Run as a superuser (or a role with CREATEROLE). The password reaches the server as a bound parameter of a
    `format()` call and then in one ALTER ROLE, with statement logging off in this transaction, so it is never
    written to the server's log, even if the statement fails.
    """
    created = []
    async with connection.transaction():
        await connection.execute("SET LOCAL log_statement = 'none'")
        await connection.execute("SET LOCAL log_min_error_statement = 'panic'")
        await connection.execute("SET LOCAL password_encryption = 'scram-sha-256'")
        for role, password in passwords.items():
            exists = await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            if not exists:
                await connection.execute(f'CREATE ROLE "{_checked_name(role)}"')
                created.append(role)
            statement = await connection.fetchval(
                f"SELECT format('ALTER ROLE %I WITH {_ROLE_OPTIONS} PASSWORD %L', $1::text, $2::text)",
                role,
                password.get_secret_value(),
            )
            await connection.execute(statement)
    return created


async def set_superuser_password(connection: asyncpg.Connection, role: str, password: SecretStr) -> None:
    """The bootstrap superuser's own password (the local stack's `windhash`), logged nowhere either."""
    async with connection.transaction():
        await connection.execute("SET LOCAL log_statement = 'none'")
        await connection.execute("SET LOCAL log_min_error_statement = 'panic'")
        await connection.execute("SET LOCAL password_encryption = 'scram-sha-256'")
        statement = await connection.fetchval(
            "SELECT format('ALTER ROLE %I WITH PASSWORD %L', $1::text, $2::text)",
            role,
            password.get_secret_value(),
        )
        await connection.execute(statement)


def _checked_name(role: str) -> str:
    if not role.replace("_", "").isalnum() or not role.islower():
        raise ValueError(f"not a windhash role name: {role!r}")
    return role
