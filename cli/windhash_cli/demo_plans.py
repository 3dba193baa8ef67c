"""The demo's curtailment plan, run as an operator runs one, through the plans' HTTP app behind the API: the
SYNTHETIC operator proposes a short scheduled plan for a few of the demo site's miners, the SYNTHETIC
administrator approves it, the plans worker sleeps them over the simulated miners' cgminer API (staggered),
measures the power reduction from their telemetry and wakes them at the recovery time. And the automatic
policy's backtest over the demo span (`windhash plans backtest`, after `windhash plans prices`), replayed
while the plan holds."""

import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from windhash_cli.demo_fleet import DEMO_POLL_INTERVAL_S, SITE
from windhash_cli.demo_staff import ADMIN_EMAIL, OPERATOR_EMAIL, DemoStepFailed, StaffCalls
from windhash_cli.service_processes import WINDHASH, ServiceProcesses

# A few of the least efficient miners (the plans' own choice) reach it.
DEMO_PLAN_TARGET_MW = Decimal("0.010")
DEMO_PLAN_LEAD_S = 3
# Long enough for each slept miner to be read once more by the collector after the worker's settling time,
# so the reduction is measured before the recovery begins, with a poll to spare on a busy machine.
DEMO_PLAN_HOLD_S = 3 * DEMO_POLL_INTERVAL_S + 5
FINISHED = {("executed", "recovered"), ("failed", "recovered"), ("cancelled", "recovered")}


def plans_environment() -> dict[str, str]:
    """The plans worker's pace for the demo: its commands a second apart, checked twice a second, its
    measurement over the demo's faster polls (the power before a plan from the last few readings only, so that
    a demo run again soon after does not count the sleep of the previous run's plan as power before)."""
    return {
        "WINDHASH_PLANS_STAGGER_S": "1",
        "WINDHASH_PLANS_TICK_S": "0.5",
        "WINDHASH_PLANS_RELAY_INTERVAL_S": "0.5",
        "WINDHASH_PLANS_MEASURE_BEFORE_S": str(3 * DEMO_POLL_INTERVAL_S),
        "WINDHASH_PLANS_MEASURE_SETTLE_S": "2",
        "WINDHASH_PLANS_MEASURE_TIMEOUT_S": str(DEMO_POLL_INTERVAL_S + 5),
    }


def _site_id(staff: StaffCalls) -> int:
    for site in staff.call(OPERATOR_EMAIL, "GET", "/fleet/sites"):
        if site["name"] == SITE:
            return int(site["site_id"])
    raise DemoStepFailed(f"the fleet has no site {SITE!r}")


def _propose_and_approve(staff: StaffCalls, site_id: int) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(seconds=DEMO_PLAN_LEAD_S)
    body = {
        "site_id": site_id,
        "plan_type": "scheduled",
        "target_reduction_mw": str(DEMO_PLAN_TARGET_MW),
        "scheduled_at": start.isoformat(),
        "recovery_at": (start + timedelta(seconds=DEMO_PLAN_HOLD_S)).isoformat(),
        "note": "windhash demo: SYNTHETIC miners",
    }
    plan = staff.call(OPERATOR_EMAIL, "POST", "/plans/", json=body)
    return dict(staff.call(ADMIN_EMAIL, "POST", f"/plans/{plan['plan_id']}/approve"))


def _wait_until_recovered(
    staff: StaffCalls, processes: ServiceProcesses, plan_id: int, seconds: float
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        processes.check_alive()
        plan: dict[str, Any] = staff.call(OPERATOR_EMAIL, "GET", f"/plans/{plan_id}")
        if (plan["status"], plan["phase"]) in FINISHED:
            return plan
        if time.monotonic() > deadline:
            raise TimeoutError(f"plan {plan_id} did not recover within {seconds:.0f} s: {plan['status']}")
        time.sleep(0.5)


def _watts(value: object) -> str:
    return "—" if value is None else f"{float(str(value)):,.0f} W"


def _clock(value: object) -> str:
    return "—" if value is None else datetime.fromisoformat(str(value)).strftime("%H:%M:%S")


def plan_table(plan: dict[str, Any]) -> Table:
    table = Table(
        title=f"Curtailment plan {plan['plan_id']}: {plan['status']}, {plan['phase']}",
        caption="SYNTHETIC miners of windhash's fleet simulator, commanded over their cgminer API.",
    )
    for column in ("order", "miner", "model", "before", "after", "slept", "woken"):
        table.add_column(column, justify="left" if column in ("miner", "model") else "right")
    for miner in plan["miners"]:
        table.add_row(
            str(miner["shutdown_order"]),
            miner["serial_number"],
            miner["miner_model"],
            _watts(miner["power_before_w"]),
            _watts(miner["power_after_w"]),
            _clock(miner["slept_at"]),
            _clock(miner["woken_at"]),
        )
    return table


def plan_outcome(plan: dict[str, Any]) -> str:
    """One line: what was asked, what telemetry measured, and the recovery (or why it failed)."""
    measured = "not measured"
    if plan["power_reduced_mw"] is not None:
        measured = (
            f"measured from telemetry {Decimal(str(plan['power_reduced_mw'])):.6f} MW "
            f"({Decimal(str(plan['power_before_mw'])):.6f} → {Decimal(str(plan['power_after_mw'])):.6f} MW)"
        )
    ending = f"failed: {plan['failure_reason']}" if plan["status"] == "failed" else "recovered"
    return (
        f"Plan {plan['plan_id']}: target {Decimal(str(plan['target_reduction_mw'])):.6f} MW, "
        f"{plan['miners_affected']} miners slept, {measured}; {ending} at {_clock(plan['recovered_at'])} "
        f"(events: {', '.join(entry['event_type'] for entry in plan['timeline'])})"
    )


def run_demo_plan(console: Console, staff: StaffCalls, processes: ServiceProcesses) -> dict[str, Any]:
    """Propose, approve, execute and recover one plan on the demo site; print what happened."""
    site_id = _site_id(staff)
    approved = _propose_and_approve(staff, site_id)
    console.print(
        f"[bold]Curtailment plan {approved['plan_id']}[/] proposed by {OPERATOR_EMAIL}, approved by "
        f"{ADMIN_EMAIL}: {len(approved['miners'])} miners to sleep for {DEMO_PLAN_HOLD_S} s…"
    )
    plan = _wait_until_recovered(staff, processes, approved["plan_id"], DEMO_PLAN_HOLD_S + 60)
    console.print(plan_table(plan))
    console.print(escape(plan_outcome(plan)))
    return plan


def backtest_report(env: dict[str, str], first: date, last: date, width: int) -> str:
    """The demo site's automatic policy replayed over the demo span, with the power prices it needs, as
    `windhash plans prices` and `windhash plans backtest` print them (`width` columns wide)."""
    span = ["--from", first.isoformat(), "--to", last.isoformat()]
    policies = ["--policy", "economic", "--policy", "always-on"]
    printed = []
    for command in (["prices", *span], ["backtest", "--site", SITE, *span, *policies]):
        done = subprocess.run(
            [*WINDHASH, "plans", *command], env={**env, "COLUMNS": str(width)}, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise DemoStepFailed(f"windhash plans {command[0]}: {(done.stdout + done.stderr)[-2000:]}")
        printed.append(done.stdout)
    return "".join(printed)
