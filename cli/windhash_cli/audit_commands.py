"""`windhash audit`: the audit trail and the login records, for administrators at the shell."""

import json
from datetime import UTC, datetime
from typing import Any

import asyncpg
import typer
from windhash_common.accounts.records import AuditFilter, LoginRecordFilter, audit_trail, login_records
from windhash_common.audit import cli_actor, record_audit
from windhash_common.settings import CommonSettings

from windhash_cli.users_commands import DATE_FORMATS, in_transaction, print_rows

app = typer.Typer(no_args_is_help=True, help="The audit trail and every login attempt.")


def _since(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def changes(before: str | None, after: str | None) -> str:
    """What changed, compactly: `key: old → new` for changed keys, `key=value` for new ones."""
    old: dict[str, Any] = json.loads(before) if before else {}
    new: dict[str, Any] = json.loads(after) if after else {}
    parts = []
    for key, value in new.items():
        if key not in old:
            parts.append(f"{key}={value}")
        elif old[key] != value:
            parts.append(f"{key}: {old[key]} → {value}")
    return "; ".join(parts) or "-"


@app.command("log")
def audit_log(
    action: str | None = typer.Option(None, help="e.g. user.create, access.revoke, login.lockout."),
    actor: str | None = typer.Option(None, help="e.g. user:alice@example.com, or cli:root@host."),
    target_type: str | None = typer.Option(None, help="e.g. user, client, api-key, login-email."),
    target_id: str | None = typer.Option(None),
    since: datetime | None = typer.Option(None, formats=DATE_FORMATS, help="From this time (UTC)."),
    limit: int = typer.Option(100, min=1, max=1000),
    csv_output: bool = typer.Option(False, "--csv", help="CSV instead of a table."),
) -> None:
    """Who changed what, when, before and after (newest first)."""
    where = AuditFilter(actor, action, target_type, target_id, _since(since), limit)
    rows = in_transaction(lambda connection, _: audit_trail(connection, where))
    if csv_output:
        columns = ("when", "actor", "action", "target_type", "target_id", "before", "after", "ip")
        print_rows(
            "audit trail",
            columns,
            [[r[c if c != "when" else "occurred_at"] for c in columns] for r in rows],
            True,
        )
        return
    print_rows(
        "audit trail",
        ("when", "actor", "action", "target", "changes"),
        [
            (r["occurred_at"].isoformat(timespec="seconds"), r["actor"], r["action"],
             f"{r['target_type']}/{r['target_id'] or ''}", changes(r["before"], r["after"]))
            for r in rows
        ],
        False,
    )  # fmt: skip


@app.command()
def logins(
    email: str | None = typer.Option(None),
    failed: bool = typer.Option(False, "--failed", help="Only failed attempts."),
    since: datetime | None = typer.Option(None, formats=DATE_FORMATS, help="From this time (UTC)."),
    limit: int = typer.Option(100, min=1, max=1000),
    csv_output: bool = typer.Option(False, "--csv", help="CSV instead of a table."),
) -> None:
    """Every login attempt (newest first): email, outcome, address, location."""
    where = LoginRecordFilter(email, None, False if failed else None, _since(since), limit)
    rows = in_transaction(lambda connection, _: login_records(connection, where))
    print_rows(
        "login records",
        ("when", "email", "outcome", "ip", "city", "country", "user agent"),
        [
            (r["attempted_at"].isoformat(timespec="seconds"), r["email"], r["outcome"], r["ip"], r["city"],
             r["country"], r["user_agent"])
            for r in rows
        ],
        csv_output,
    )  # fmt: skip


@app.command("prune-logins")
def prune_logins(
    older_than_days: int = typer.Option(365, min=30, help="Keep this many days of login records (a year)."),
) -> None:
    """Delete login records past the retention (the pruning itself is audited)."""

    async def prune(connection: asyncpg.Connection, settings: CommonSettings) -> int:
        deleted = await connection.fetchval(
            "WITH gone AS (DELETE FROM login_records WHERE attempted_at < now() - make_interval(days => $1)"
            " RETURNING 1) SELECT count(*) FROM gone",
            older_than_days,
        )
        after = {"deleted": deleted, "older_than_days": older_than_days}
        await record_audit(
            connection,
            settings.topics,
            cli_actor(),
            "login-records.prune",
            "login-records",
            None,
            None,
            after,
        )
        return int(deleted)

    typer.echo(f"deleted {in_transaction(prune)} login records older than {older_than_days} days")
