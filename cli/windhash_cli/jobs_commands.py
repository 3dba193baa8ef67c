"""`windhash jobs`: who holds each background job (scheduler_locks): holder, host, since, last heartbeat."""

import sys

import typer
from rich.console import Console
from rich.table import Table
from windhash_common import event_loop
from windhash_common.db import create_pool, migrate_database
from windhash_common.job_leases import JobHolder, job_holders
from windhash_common.settings import CommonSettings
from windhash_common.tabular import plain_csv_text


async def _holders(prefix: str | None) -> list[JobHolder]:
    settings = CommonSettings()
    await migrate_database(settings.database_url)
    pool = await create_pool(settings.database_url, max_size=1)
    try:
        async with pool.acquire() as connection:
            return await job_holders(connection, prefix)
    finally:
        await pool.close()


def jobs(
    prefix: str | None = typer.Argument(None, help="Only keys starting with this, e.g. fleet-collector/."),
    as_csv: bool = typer.Option(False, "--csv", help="Write CSV to standard output instead of a table."),
) -> None:
    """Every background job with a holder: key, holder, host, pid, since, last heartbeat, expiry, live."""
    holders = event_loop.run(_holders(prefix))
    columns = ("job", "holder", "host", "pid", "since", "heartbeat", "expires", "version", "live")
    rows = [
        (
            row.job_key,
            row.holder,
            row.hostname,
            str(row.pid),
            row.acquired_at.isoformat(),
            row.heartbeat_at.isoformat(),
            row.expires_at.isoformat(),
            str(row.version),
            "yes" if row.live else "expired",
        )
        for row in holders
    ]
    if as_csv:
        sys.stdout.write(plain_csv_text(columns, rows))
        return
    table = Table(title=f"background jobs ({len(rows)} held)")
    for column in columns:
        table.add_column(column)
    for row_values in rows:
        table.add_row(*row_values)
    Console().print(table)
