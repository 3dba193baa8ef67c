"""`windhash users`: accounts from the operator's shell (the first owner: `windhash users add EMAIL --role
owner`). Every change is audited with the operator as actor (`cli:<account>@<host>`); a password the command
makes is printed once, to the terminal only, and must be changed at the first login."""

import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
import typer
from rich.console import Console
from rich.table import Table
from windhash_common import event_loop
from windhash_common.access.roles import Role, UserStatus
from windhash_common.accounts import passwords
from windhash_common.accounts import users as accounts
from windhash_common.accounts.sessions import user_sessions
from windhash_common.audit import cli_actor
from windhash_common.db import migrate_database
from windhash_common.settings import CommonSettings
from windhash_common.tabular import plain_csv_text

app = typer.Typer(no_args_is_help=True, help="User accounts, access windows and sessions.")
console = Console()
T = TypeVar("T")
Operation = Callable[[asyncpg.Connection, CommonSettings], Awaitable[T]]


def fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(2)


def in_transaction(operation: Operation[T]) -> T:
    """Run `operation` in one transaction as the operator (the schema must be current)."""

    async def run() -> T:
        settings = CommonSettings()
        await migrate_database(settings.database_url)
        connection = await asyncpg.connect(settings.database_url)
        try:
            async with connection.transaction():
                return await operation(connection, settings)
        finally:
            await connection.close()

    try:
        return event_loop.run(run())
    except accounts.AccountError as error:
        raise fail(str(error)) from None


def _when(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


async def _user_id(connection: asyncpg.Connection, email: str) -> UUID:
    row = await accounts.find_user_by_email(connection, email)
    if row is None:
        raise accounts.AccountError(f"no account has the email {accounts.normalised_email(email)}")
    user_id: UUID = row["id"]
    return user_id


def print_rows(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], as_csv: bool) -> None:
    if as_csv:
        sys.stdout.write(plain_csv_text(columns, rows))
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("-" if cell is None else str(cell) for cell in row))
    console.print(table)


DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


@app.command()
def add(
    email: str = typer.Argument(..., help="The account's email (its login)."),
    role: Role = typer.Option(..., help="owner, admin, user, client or guest."),
    name: str = typer.Option("", help="The person's name."),
    client: str | None = typer.Option(None, help="A client account's organisation (created if new)."),
    until: datetime | None = typer.Option(None, formats=DATE_FORMATS, help="End of the access window (UTC)."),
) -> None:
    """Create an account with a one-time password (printed once) and an access window from now."""
    if "@" not in email or len(email.strip()) > 254 or not email.strip().isprintable():
        raise fail(f"{email!r} is not an email address")
    if (role is Role.CLIENT) != (client is not None):
        raise fail("--client names the organisation of a client account, and only of one")
    one_time = passwords.one_time_password()
    password_hash = passwords.hash_password(one_time)

    async def create(connection: asyncpg.Connection, settings: CommonSettings) -> asyncpg.Record:
        actor = cli_actor()
        client_id = None
        if client is not None:
            found = await connection.fetchval(
                "SELECT id FROM clients WHERE lower(name) = lower($1)", client.strip()
            )
            client_id = (
                found or (await accounts.create_client(connection, settings.topics, actor, client))["id"]
            )
        return await accounts.create_user(
            connection,
            settings.topics,
            actor,
            email=email,
            name=name,
            role=role,
            client_id=client_id,
            password_hash=password_hash,
            must_change_password=True,
            access_until=_when(until),
        )

    created = in_transaction(create)
    typer.echo(f"created {created['email']} ({created['role']})")
    typer.echo(f"one-time password: {one_time}")
    typer.echo("it is shown only now; the account must choose its own password at its first login")


@app.command("list")
def list_users(csv_output: bool = typer.Option(False, "--csv", help="CSV instead of a table.")) -> None:
    """Every account, with its role, status and whether it may act now."""
    rows = in_transaction(lambda connection, _: accounts.list_users(connection))
    columns = ("email", "name", "role", "status", "client", "may act now", "must change password", "created")
    print_rows(
        "accounts",
        columns,
        [
            (r["email"], r["name"], r["role"], r["status"], r["client_name"], r["may_act_now"],
             r["must_change_password"], r["created_at"].isoformat(timespec="seconds"))
            for r in rows
        ],
        csv_output,
    )  # fmt: skip


@app.command()
def grant(
    email: str = typer.Argument(...),
    start: datetime | None = typer.Option(None, "--from", formats=DATE_FORMATS, help="Default: now (UTC)."),
    until: datetime | None = typer.Option(None, formats=DATE_FORMATS, help="Default: until revoked (UTC)."),
) -> None:
    """Open an access window for an account."""
    starts_at, ends_at = _when(start), _when(until)
    if starts_at and ends_at and ends_at < starts_at:
        raise fail("--until is before --from")

    async def run(connection: asyncpg.Connection, settings: CommonSettings) -> asyncpg.Record:
        user_id = await _user_id(connection, email)
        return await accounts.grant_access(
            connection, settings.topics, cli_actor(), user_id, starts_at, ends_at
        )

    window = in_transaction(run)
    ends = window["ends_at"].isoformat(timespec="seconds") if window["ends_at"] else "until revoked"
    typer.echo(f"access for {email}: {window['starts_at'].isoformat(timespec='seconds')} to {ends}")


@app.command()
def revoke(email: str = typer.Argument(...)) -> None:
    """End every open access window of an account now, and its sessions."""

    async def run(connection: asyncpg.Connection, settings: CommonSettings) -> int:
        return await accounts.revoke_access(
            connection, settings.topics, cli_actor(), await _user_id(connection, email)
        )

    typer.echo(f"ended {in_transaction(run)} access window(s) of {email}; its sessions are revoked")


def _set_status(email: str, status: UserStatus) -> None:
    async def run(connection: asyncpg.Connection, settings: CommonSettings) -> asyncpg.Record:
        user_id = await _user_id(connection, email)
        return await accounts.update_user(
            connection, settings.topics, cli_actor(), user_id, {"status": status.value}
        )

    in_transaction(run)


@app.command()
def suspend(email: str = typer.Argument(...)) -> None:
    """Suspend an account: refused at once, its sessions revoked."""
    _set_status(email, UserStatus.SUSPENDED)
    typer.echo(f"{email} is suspended")


@app.command()
def reactivate(email: str = typer.Argument(...)) -> None:
    """Lift a suspension (the account logs in again; its old sessions stay revoked)."""
    _set_status(email, UserStatus.ACTIVE)
    typer.echo(f"{email} is active")


@app.command("reset-password")
def reset_password(email: str = typer.Argument(...)) -> None:
    """A new one-time password (printed once); the account's sessions end and it must choose a password."""
    one_time = passwords.one_time_password()
    password_hash = passwords.hash_password(one_time)

    async def run(connection: asyncpg.Connection, settings: CommonSettings) -> None:
        user_id = await _user_id(connection, email)
        await accounts.set_password(connection, settings.topics, cli_actor(), user_id, password_hash, True)

    in_transaction(run)
    typer.echo(f"one-time password for {email}: {one_time}")


@app.command()
def sessions(
    email: str = typer.Argument(...),
    revoke_all: bool = typer.Option(False, "--revoke", help="Revoke every open session."),
    csv_output: bool = typer.Option(False, "--csv", help="CSV instead of a table."),
) -> None:
    """An account's sessions (newest first), or revoke them all."""

    async def run(connection: asyncpg.Connection, settings: CommonSettings) -> list[asyncpg.Record] | int:
        user_id = await _user_id(connection, email)
        if revoke_all:
            return await accounts.revoke_sessions(
                connection, settings.topics, cli_actor(), user_id, "revoked by the CLI"
            )
        return await user_sessions(connection, user_id, open_only=False)

    result = in_transaction(run)
    if isinstance(result, int):
        typer.echo(f"revoked {result} session(s) of {email}")
        return
    print_rows(
        f"sessions of {email}",
        ("created", "last seen", "expires", "revoked", "reason", "ip", "user agent"),
        [
            (r["created_at"].isoformat(timespec="seconds"), r["last_seen_at"].isoformat(timespec="seconds"),
             r["expires_at"].isoformat(timespec="seconds"),
             r["revoked_at"].isoformat(timespec="seconds") if r["revoked_at"] else None,
             r["revoked_reason"], r["ip"], r["user_agent"])
            for r in result
        ],
        csv_output,
    )  # fmt: skip
