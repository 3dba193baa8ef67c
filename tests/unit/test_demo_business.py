"""The demo's business half against fakes of the API: its sample sale looks its leads up by email before it
makes anything (a second demo on the same database adds nothing), and a plan's outcome line says what was
measured or why it failed. The real services prove it end to end in tests/e2e/test_demo.py."""

from io import StringIO
from pathlib import Path
from typing import Any

from rich.console import Console
from windhash_cli.demo_crm import OPEN, WON, run_demo_sale
from windhash_cli.demo_plans import plan_outcome


class FakeCrm:
    """The CRM's routes the demo calls, over dictionaries; every change it is asked for is recorded."""

    def __init__(self) -> None:
        self.leads: dict[int, dict[str, Any]] = {}
        self.deals: dict[int, dict[str, Any]] = {}
        self.invoices: dict[int, dict[str, Any]] = {}
        self.changes: list[tuple[str, str]] = []

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        if method != "GET":
            self.changes.append((method, path))
        parts = path.strip("/").split("/")[1:]
        body = kwargs.get("json", {})
        params = kwargs.get("params", {})
        match method, parts:
            case "GET", ["leads"]:
                return [lead for lead in self.leads.values() if params["q"] in lead["email"]]
            case "POST", ["leads"]:
                lead_id = len(self.leads) + 1
                self.leads[lead_id] = body | {"lead_id": lead_id, "deal_id": None}
                return self.leads[lead_id]
            case "POST", ["leads", lead_id, "convert"]:
                deal_id = len(self.deals) + 1
                self.deals[deal_id] = {"deal_id": deal_id, "stage": "discovery"}
                self.leads[int(lead_id)]["deal_id"] = deal_id
                return self.deals[deal_id]
            case "GET", ["deals", deal_id]:
                return self.deals[int(deal_id)]
            case "POST", ["deals", deal_id, "stage"]:
                self.deals[int(deal_id)]["stage"] = body["stage"]
                return self.deals[int(deal_id)]
            case "GET", ["invoices"]:
                return [i for i in self.invoices.values() if i["deal_id"] == params["deal_id"]]
            case "POST", ["invoices"]:
                invoice_id = len(self.invoices) + 1
                number = f"WH-2026-{invoice_id:05d}"
                invoice = body | {"invoice_id": invoice_id, "invoice_number": number, "status": "draft"}
                self.invoices[invoice_id] = invoice | {"due_date": "2026-02-01"}
                return self.invoices[invoice_id]
            case "POST", ["invoices", invoice_id, "send"]:
                self.invoices[int(invoice_id)]["status"] = "sent"
                return self.invoices[int(invoice_id)]
            case "GET", ["invoices", invoice_id, "pdf"]:
                return f"%PDF {self.invoices[int(invoice_id)]['invoice_number']}".encode()
            case "GET", ["pipeline"]:
                return {
                    "by_stage": [],
                    "forecast_by_month": [],
                    "open_value_usd": "0",
                    "open_weighted_usd": "0",
                }
        raise AssertionError(f"the demo called {method} {path}")


def test_the_sample_sale_is_made_once_and_found_again(tmp_path: Path) -> None:
    crm = FakeCrm()
    printed = StringIO()
    console = Console(file=printed, width=200)
    pdf = run_demo_sale(console, crm, tmp_path)
    assert crm.changes == [
        ("POST", "/crm/leads"),
        ("POST", "/crm/leads/1/convert"),
        ("POST", "/crm/deals/1/stage"),
        ("POST", "/crm/leads"),
        ("POST", "/crm/leads/2/convert"),
        ("POST", "/crm/deals/2/stage"),
        ("POST", "/crm/invoices"),
        ("POST", "/crm/invoices/1/send"),
    ]
    assert [crm.deals[1]["stage"], crm.deals[2]["stage"]] == [WON.stage, OPEN.stage]
    assert pdf == tmp_path / "WH-2026-00001.pdf" and pdf.read_bytes() == b"%PDF WH-2026-00001"

    crm.changes.clear()
    assert run_demo_sale(console, crm, tmp_path) == pdf
    assert crm.changes == []
    assert "invoice WH-2026-00001 (sent" in printed.getvalue()


def _plan(**fields: Any) -> dict[str, Any]:
    timeline = [{"event_type": kind} for kind in ("plan.created", "plan.approved", "plan.started")]
    return {
        "plan_id": 7,
        "status": "executed",
        "target_reduction_mw": "0.010000",
        "miners_affected": 4,
        "power_reduced_mw": "0.012294",
        "power_before_mw": "0.012394",
        "power_after_mw": "0.000100",
        "failure_reason": None,
        "recovered_at": "2026-12-06T08:50:48+00:00",
        "timeline": timeline,
    } | fields


def test_a_plan_outcome_says_what_telemetry_measured_or_why_it_failed() -> None:
    assert plan_outcome(_plan()) == (
        "Plan 7: target 0.010000 MW, 4 miners slept, measured from telemetry 0.012294 MW "
        "(0.012394 → 0.000100 MW); recovered at 08:50:48 (events: plan.created, plan.approved, plan.started)"
    )
    failed = plan_outcome(
        _plan(status="failed", power_reduced_mw=None, failure_reason="under 80% of the 0.010 MW target")
    )
    assert "4 miners slept, not measured; failed: under 80% of the 0.010 MW target at 08:50:48" in failed
