"""PostgreSQL access: connection pools and the versioned-SQL migration runner."""

import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

from windhash_common.db_privileges import apply_privileges, privileges_fingerprint
from windhash_common.db_roles import DatabaseRole

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Any constant will do; it only has to be the same for every process that migrates this database.
_MIGRATION_LOCK = 0x77696E64


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    found = []
    for entry in resources.files("windhash_common.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text()))
    return sorted(found, key=lambda migration: migration.version)


class MigrationsPending(RuntimeError):
    """The schema is behind this code and the connected role may not bring it forward."""


async def migrate(connection: asyncpg.Connection) -> list[Migration]:
    """Apply every migration not yet applied, each in its own transaction, then the table privileges
    (db_privileges) when they changed; returns the migrations it applied. An advisory lock lets several
    services start at once without racing.

    A service connects as a role that may not change the schema: for it this only checks that the schema is
    current (reading `schema_migrations` and `schema_privileges`), and raises MigrationsPending otherwise.
    `windhash db migrate` runs as the owner (`windhash_owner`) or a superuser."""
    await connection.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        applied = await _applied_versions(connection)
        pending = [migration for migration in migrations() if migration.version not in applied]
        stale_privileges = await _stored_privileges(connection) != privileges_fingerprint()
        if not pending and not stale_privileges:
            return []
        try:
            return await _bring_forward(connection, pending)
        except asyncpg.InsufficientPrivilegeError as error:
            user = await connection.fetchval("SELECT current_user")
            raise MigrationsPending(
                f"the database schema is not current and {user} may not change it ({error}): "
                f"run `windhash db migrate` as {DatabaseRole.OWNER.value} (or the superuser) first"
            ) from error
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)


async def _applied_versions(connection: asyncpg.Connection) -> set[int]:
    if await connection.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return set()
    return {row["version"] for row in await connection.fetch("SELECT version FROM schema_migrations")}


async def _stored_privileges(connection: asyncpg.Connection) -> str | None:
    if await connection.fetchval("SELECT to_regclass('schema_privileges')") is None:
        return None
    fingerprint: str | None = await connection.fetchval("SELECT fingerprint FROM schema_privileges")
    return fingerprint


async def _ensure_roles_exist(connection: asyncpg.Connection) -> None:
    """The grants name every windhash role. Roles a deployment has not provisioned yet are created by a
    superuser without login (nobody can connect as them until `windhash db roles` gives them passwords);
    anyone else is told to provision them."""
    roles = [role.value for role in DatabaseRole]
    found = await connection.fetch("SELECT rolname FROM pg_roles WHERE rolname = ANY($1)", roles)
    missing = sorted(set(roles) - {row[0] for row in found})
    if not missing:
        return
    if not await connection.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
        raise MigrationsPending(
            f"the database roles {', '.join(missing)} do not exist: the local stack creates them "
            "(`windhash stack up`); elsewhere run `windhash db roles` as a superuser first"
        )
    for role in missing:
        await connection.execute(f'CREATE ROLE "{role}" NOLOGIN')


async def _bring_forward(connection: asyncpg.Connection, pending: list[Migration]) -> list[Migration]:
    await _ensure_roles_exist(connection)
    await connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    done = []
    for migration in pending:
        async with connection.transaction():
            await connection.execute(migration.sql)
            await connection.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
        done.append(migration)
    async with connection.transaction():
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_privileges ("
            " fingerprint text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        await apply_privileges(connection)
        await connection.execute("DELETE FROM schema_privileges")
        await connection.execute(
            "INSERT INTO schema_privileges (fingerprint) VALUES ($1)", privileges_fingerprint()
        )
    return done


async def migrate_database(dsn: str) -> list[Migration]:
    connection = await asyncpg.connect(dsn)
    try:
        return await migrate(connection)
    finally:
        await connection.close()


async def create_pool(dsn: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size)
    if pool is None:  # asyncpg types the awaited pool as optional
        raise RuntimeError(f"could not create a connection pool for {dsn}")
    return pool
