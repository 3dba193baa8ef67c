"""The README's main job, run as a user runs it: `windhash demo --once` on the bundled synthetic sample."""

import asyncio
import io
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from pypdf import PdfReader
from windhash_cli.demo_crm import OPEN, WON
from windhash_cli.demo_staff import ADMIN_EMAIL, OPERATOR_EMAIL
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
            "--market-api-port",
            str(free_port()),
            "--crm-port",
            str(free_port()),
            "--plans-api-port",
            str(free_port()),
            "--fleet-sim-port",
            str(free_port()),
            "--fleet-api-port",
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
    # The hosting fleet: 300 simulated miners polled, the offline ones marked so, read back from the tables.
    assert "Hosting fleet now" in output and "Demo site (SYNTHETIC)" in output
    assert re.search(r"Demo site \(SYNTHETIC\)\s+│\s+300\s+│", output), output[-3000:]
    # The business half, its lines as the terminal wrapped them.
    plan_id = _assert_the_plan_ran(re.sub(r"\s+", " ", output))
    assert "2254 half hours replayed" in output and "│ economic" in output  # the automatic policy's backtest
    invoice_number, pdf = _assert_the_sale(re.sub(r"\s+", " ", output))
    assert asyncio.run(_business_records(stack.postgres_dsn, plan_id, invoice_number)) == {
        "plan": ("executed", "recovered", ADMIN_EMAIL),
        "audited": [("plan.create", f"user:{OPERATOR_EMAIL}"), ("plan.approve", f"user:{ADMIN_EMAIL}")],
        "leads": {WON.email: 1, OPEN.email: 1},  # found again by their emails, never made twice
        "invoice": ("sent", WON.email),
    }
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.read_bytes())).pages)
    assert f"INVOICE {invoice_number}" in text and "(SYNTHETIC)" in text
    # The demo owner's one-time password is printed once, and is the account's password.
    match = re.search(r"Demo owner: (\S+), one-time password (\S+) ", output)
    assert match, output[-2000:]
    assert asyncio.run(_stored_password_is(stack.postgres_dsn, match.group(1), match.group(2)))


def _assert_the_plan_ran(output: str) -> int:
    """A plan proposed and approved at the API, executed on the simulated miners, measured and recovered."""
    staff = f"proposed by {re.escape(OPERATOR_EMAIL)}, approved by {re.escape(ADMIN_EMAIL)}"
    proposed = re.search(rf"Curtailment plan (\d+) {staff}: (\d+) miners", output)
    assert proposed, output[-4000:]
    plan_id = int(proposed.group(1))
    assert f"Curtailment plan {plan_id}: executed, recovered" in output, output[-4000:]
    measured = re.search(
        rf"Plan {plan_id}: target 0\.010000 MW, (\d+) miners slept, measured from telemetry ([\d.]+) MW",
        output,
    )
    assert measured, output[-4000:]
    assert int(measured.group(1)) == int(proposed.group(2)) >= 1
    assert Decimal(measured.group(2)) >= Decimal("0.008")  # at least 80% of the target, read from telemetry
    assert "plan.executed, plan.recovering, plan.recovered)" in output, output[-4000:]
    return plan_id


def _assert_the_sale(output: str) -> tuple[str, Path]:
    assert "CRM pipeline" in output and "negotiation" in output and "forecast 20" in output
    sale = re.search(
        rf"lead {re.escape(WON.email)} → deal \d+ \(closed_won\) → invoice (WH-\d{{4}}-\d{{5}}) "
        r"\(sent, USD 2,000\.00, due [\d-]+\); PDF: (\S+\.pdf)",
        output,
    )
    assert sale, output[-4000:]
    pdf = Path(sale.group(2))
    assert pdf.is_file() and pdf.name == f"{sale.group(1)}.pdf"
    return sale.group(1), pdf


async def _business_records(dsn: str, plan_id: int, invoice_number: str) -> dict[str, Any]:
    connection = await asyncpg.connect(dsn)
    try:
        plan = await connection.fetchrow(
            "SELECT p.status, p.phase, u.email FROM curtailment_plans AS p JOIN users AS u"
            " ON u.id = p.approved_by WHERE p.plan_id = $1",
            plan_id,
        )
        audited = await connection.fetch(
            "SELECT action, actor FROM audit_log WHERE target_type = 'curtailment_plan' AND target_id = $1"
            " AND action IN ('plan.create', 'plan.approve') ORDER BY id",
            str(plan_id),
        )
        leads = await connection.fetch(
            "SELECT email, count(*) FROM crm_leads WHERE email = ANY($1::text[]) GROUP BY email",
            [WON.email, OPEN.email],
        )
        invoice = await connection.fetchrow(
            "SELECT i.status, l.email FROM crm_invoices AS i JOIN crm_deals AS d USING (deal_id)"
            " JOIN crm_leads AS l ON l.lead_id = d.lead_id WHERE i.invoice_number = $1",
            invoice_number,
        )
    finally:
        await connection.close()
    assert plan is not None and invoice is not None
    return {
        "plan": tuple(plan),
        "audited": [tuple(row) for row in audited],
        "leads": {row["email"]: row["count"] for row in leads},
        "invoice": tuple(invoice),
    }


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
