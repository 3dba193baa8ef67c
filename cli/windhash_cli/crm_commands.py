"""`windhash crm`: run the CRM service (no subcommand), or look at it and rescore its leads from the shell."""

import csv
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from windhash_common import event_loop
from windhash_common.db import create_pool, migrate_database

app = typer.Typer(
    help="The CRM service: leads, deals, activities, invoices (its HTTP app behind the API's /api/v1/crm). "
    "With no command, runs the service in the foreground."
)
console = Console()

_STATUS = """
SELECT 'leads' AS records, status, count(*) AS count FROM crm_leads GROUP BY status
UNION ALL SELECT 'deals', stage, count(*) FROM crm_deals GROUP BY stage
UNION ALL SELECT 'invoices', status, count(*) FROM crm_invoices GROUP BY status
UNION ALL SELECT 'activities', CASE WHEN completed_at IS NULL THEN 'open' ELSE 'done' END, count(*)
            FROM crm_activities GROUP BY 2
ORDER BY 1, 2
"""


@app.callback(invoke_without_command=True)
def crm(context: typer.Context) -> None:
    """Run the CRM service until SIGTERM or SIGINT: its HTTP app (WINDHASH_CRM_PORT), the outbox relay and
    the overdue-invoice and reminder jobs (one runner each: see `windhash jobs crm/`)."""
    if context.invoked_subcommand is None:
        from windhash_crm.main import run

        run()


async def _with_pool(work: Callable[[Any, Any], Awaitable[Any]]) -> Any:
    from windhash_crm.settings import CrmSettings

    settings = CrmSettings()
    await migrate_database(settings.database_url)
    pool = await create_pool(settings.database_url, max_size=2)
    try:
        return await work(settings, pool)
    finally:
        await pool.close()


@app.command()
def status(as_csv: bool = typer.Option(False, "--csv", help="As CSV.")) -> None:
    """How many leads, deals, invoices and activities there are, by status (every owner's: the operator's
    role sees all), and who holds the CRM's jobs."""
    from windhash_common.job_leases import job_holders

    async def work(settings: Any, pool: Any) -> tuple[list[Any], list[Any]]:
        async with pool.acquire() as connection:
            return list(await connection.fetch(_STATUS)), await job_holders(connection, "crm/")

    counts, holders = event_loop.run(_with_pool(work))
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(("records", "status", "count"))
        writer.writerows((row["records"], row["status"], row["count"]) for row in counts)
        return
    table = Table("records", "status", "count", title="CRM records")
    for row in counts:
        table.add_row(row["records"], row["status"], str(row["count"]))
    console.print(table)
    for holder in holders:
        state = "live" if holder.live else "expired"
        console.print(
            f"{holder.job_key}: held by {holder.holder} ({state}, until {holder.expires_at:%H:%M:%S})"
        )
    if not holders:
        console.print("[yellow]no CRM job is held: is `windhash crm` running?[/]")


@app.command()
def rescore() -> None:
    """Score every lead again with the current rule (WINDHASH_CRM_SCORING_RULE); each change is audited."""
    from windhash_common.audit import cli_actor
    from windhash_crm.rescoring import rescore_leads

    async def work(settings: Any, pool: Any) -> int:
        async with pool.acquire() as connection, connection.transaction():
            changed: int = await rescore_leads(connection, settings, cli_actor())
            return changed

    changed = event_loop.run(_with_pool(work))
    console.print(f"{changed} lead(s) rescored")
