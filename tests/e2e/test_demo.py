"""The README's main job, run as a user runs it: `windhash demo --once` on the bundled synthetic sample."""

import asyncio
import os
import re
import subprocess
import sys

import asyncpg
import pytest
from windhash_common.accounts.passwords import verify_password
from windhash_stack import StackEndpoints
from windhash_stack.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def test_demo_runs_the_sample_span_to_complete_summaries(stack: StackEndpoints) -> None:
    # The session's stack is the demo's default stack, so the demo finds it running and leaves it up.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "windhash_cli",
            "demo",
            "--once",
            "--api-port",
            str(free_port()),
            "--elexon-port",
            str(free_port()),
            "--market-port",
            str(free_port()),
            "--crm-port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "160"},
        timeout=1200,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "Pipeline complete: 2254 periods calculated, 0 pending difficulty, 47 days summarised." in output
    for heading in (
        "Wind curtailment 2024-03-15 to 2024-04-30",
        "Bitcoin the curtailed energy could have mined",
    ):
        assert heading in output
    assert "SYNTHETIC" in output
    assert "S19J_PRO" in output
    assert "hashprice at" in output and "(SYNTHETIC)" in output  # from the market service and its simulator
    # The demo owner's one-time password is printed once, and is the account's password.
    match = re.search(r"Demo owner: (\S+), one-time password (\S+) ", output)
    assert match, output[-2000:]
    assert asyncio.run(_stored_password_is(stack.postgres_dsn, match.group(1), match.group(2)))


async def _stored_password_is(dsn: str, email: str, password: str) -> bool:
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(
            "SELECT password_hash, role, must_change_password FROM users WHERE email = $1", email
        )
    finally:
        await connection.close()
    assert (row["role"], row["must_change_password"]) == ("owner", True)
    return verify_password(row["password_hash"], password)
