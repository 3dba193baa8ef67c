"""`windhash db`: database schema."""

import typer
from windhash_common import event_loop
from windhash_common.db import migrate_database
from windhash_common.settings import CommonSettings

app = typer.Typer(no_args_is_help=True, help="Database schema.")


@app.command()
def migrate() -> None:
    """Apply every pending schema migration (services also do this when they start)."""
    applied = event_loop.run(migrate_database(CommonSettings().database_url))
    if applied:
        for migration in applied:
            typer.echo(f"applied {migration.version:04d}_{migration.name}")
    else:
        typer.echo("schema is up to date")
