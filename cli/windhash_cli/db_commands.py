"""`windhash db`: database schema and roles."""

from pathlib import Path

import asyncpg
import typer
from windhash_common import event_loop
from windhash_common.db import migrate_database
from windhash_common.db_roles import DatabaseRole, provision_roles
from windhash_common.settings import CommonSettings
from windhash_stack.postgres_credentials import read_passfile

app = typer.Typer(no_args_is_help=True, help="Database schema and roles.")


@app.command()
def migrate() -> None:
    """Apply every pending schema migration and the table privileges (as windhash_owner or the superuser;
    services only check that the schema is current when they start)."""
    applied = event_loop.run(migrate_database(CommonSettings().database_url))
    if applied:
        for migration in applied:
            typer.echo(f"applied {migration.version:04d}_{migration.name}")
    else:
        typer.echo("schema is up to date")


@app.command()
def roles(
    passfile: Path = typer.Option(
        ...,
        exists=True,
        dir_okay=False,
        help="A libpq password file with a `*:*:*:<role>:<password>` line for every windhash role.",
    ),
) -> None:
    """Create or update the windhash database roles with their passwords (as a superuser; the local stack
    does this itself). Run it before the first `windhash db migrate` of a new deployment."""
    passwords = read_passfile(passfile)
    missing = [role.value for role in DatabaseRole if role.value not in passwords]
    if missing:
        typer.echo(f"{passfile} has no password for {', '.join(missing)}", err=True)
        raise typer.Exit(2)

    async def provision() -> list[str]:
        connection = await asyncpg.connect(CommonSettings().database_url)
        try:
            return await provision_roles(
                connection, {role.value: passwords[role.value] for role in DatabaseRole}
            )
        finally:
            await connection.close()

    created = event_loop.run(provision())
    typer.echo(f"roles ready ({len(created)} created): {', '.join(role.value for role in DatabaseRole)}")
