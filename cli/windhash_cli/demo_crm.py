"""The demo's SYNTHETIC sale, through the CRM's HTTP app behind the API as the demo operator (staff) makes it:
a lead for a hosting client converted into a deal, won, invoiced and the invoice sent (its PDF rendered by the
CRM and written under the stack's state directory); a second lead's deal left open in negotiation, so the
weighted forecast has something to show. Looked up by the leads' emails before anything is made, so a second
`windhash demo` on the same database adds nothing."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from windhash_cli.demo_staff import OPERATOR_EMAIL, StaffCalls

SYNTHETIC = "(SYNTHETIC)"


@dataclass(frozen=True)
class DemoProspect:
    email: str
    """Its natural key: the demo finds the lead by it."""
    name: str
    company: str
    deal_title: str
    value_usd: Decimal
    stage: str
    """Where the demo leaves its deal."""


WON = DemoProspect(
    "ops@demo-hosting-client.example",
    "Ada Gale",
    f"Demo Hosting Client Ltd {SYNTHETIC}",
    f"Demo Hosting Client: 10 S21 hosted {SYNTHETIC}",
    Decimal("24000.00"),
    "closed_won",
)
OPEN = DemoProspect(
    "energy@demo-wind-cooperative.example",
    "Ben Breeze",
    f"Demo Wind Cooperative {SYNTHETIC}",
    f"Demo Wind Cooperative: 40 S19J Pro hosted {SYNTHETIC}",
    Decimal("96000.00"),
    "negotiation",
)
INVOICE_AMOUNT_USD = Decimal("2000.00")
INVOICE_DESCRIPTION = f"Hosting, first month {SYNTHETIC}"


def _lead(staff: StaffCalls, prospect: DemoProspect) -> dict[str, Any]:
    for lead in staff.call(OPERATOR_EMAIL, "GET", "/crm/leads", params={"q": prospect.email}):
        if lead["email"] == prospect.email:
            return dict(lead)
    body = {
        "name": prospect.name,
        "email": prospect.email,
        "company": prospect.company,
        "source": "referral",
        "notes": f"windhash demo {SYNTHETIC}",
    }
    return dict(staff.call(OPERATOR_EMAIL, "POST", "/crm/leads", json=body))


def _deal(staff: StaffCalls, prospect: DemoProspect) -> dict[str, Any]:
    """The lead's deal, made and moved to the prospect's stage if it is not there yet."""
    lead = _lead(staff, prospect)
    if lead["deal_id"] is None:
        close = (datetime.now(UTC) + timedelta(days=30)).date()
        body = {"title": prospect.deal_title, "value_usd": str(prospect.value_usd)}
        staff.call(
            OPERATOR_EMAIL,
            "POST",
            f"/crm/leads/{lead['lead_id']}/convert",
            json=body | {"expected_close_date": close.isoformat()},
        )
        lead = _lead(staff, prospect)
    deal: dict[str, Any] = staff.call(OPERATOR_EMAIL, "GET", f"/crm/deals/{lead['deal_id']}")
    if deal["stage"] not in (prospect.stage, "closed_won", "closed_lost"):
        path = f"/crm/deals/{deal['deal_id']}/stage"
        deal = staff.call(OPERATOR_EMAIL, "POST", path, json={"stage": prospect.stage})
    return deal


def _sent_invoice(staff: StaffCalls, deal_id: int) -> dict[str, Any]:
    """The won deal's invoice (made if it has none), sent."""
    found = staff.call(OPERATOR_EMAIL, "GET", "/crm/invoices", params={"deal_id": deal_id})
    if found:
        invoice: dict[str, Any] = found[-1]  # newest number first: the demo's is the first
    else:
        body = {"deal_id": deal_id, "amount_usd": str(INVOICE_AMOUNT_USD), "description": INVOICE_DESCRIPTION}
        invoice = staff.call(OPERATOR_EMAIL, "POST", "/crm/invoices", json=body)
    if invoice["status"] == "draft":
        invoice = staff.call(OPERATOR_EMAIL, "POST", f"/crm/invoices/{invoice['invoice_id']}/send")
    return invoice


def pipeline_table(pipeline: dict[str, Any]) -> Table:
    table = Table(
        title="CRM pipeline (the demo operator's deals)",
        caption=f"SYNTHETIC sample sale; open: ${Decimal(str(pipeline['open_value_usd'])):,.2f}, "
        f"weighted forecast ${Decimal(str(pipeline['open_weighted_usd'])):,.2f}.",
    )
    for column in ("stage or month", "deals", "value", "weighted"):
        table.add_column(column, justify="left" if column == "stage or month" else "right")
    rows = [(row["stage"], row) for row in pipeline["by_stage"]]
    rows += [(f"forecast {row['month']}", row) for row in pipeline["forecast_by_month"]]
    for label, row in rows:
        table.add_row(
            label,
            str(row["deals"]),
            f"${Decimal(str(row['value_usd'])):,.2f}",
            f"${Decimal(str(row['weighted_usd'])):,.2f}",
        )
    return table


def run_demo_sale(console: Console, staff: StaffCalls, pdf_dir: Path) -> Path:
    """The sample sale and the open deal; prints the pipeline and the invoice; returns the PDF's path."""
    won = _deal(staff, WON)
    _deal(staff, OPEN)
    invoice = _sent_invoice(staff, won["deal_id"])
    pdf = staff.call(OPERATOR_EMAIL, "GET", f"/crm/invoices/{invoice['invoice_id']}/pdf")
    pdf_dir.mkdir(parents=True, exist_ok=True)
    path = pdf_dir / f"{invoice['invoice_number']}.pdf"
    path.write_bytes(pdf)
    pipeline = staff.call(OPERATOR_EMAIL, "GET", "/crm/pipeline")
    console.print(pipeline_table(pipeline))
    console.print(
        f"CRM {SYNTHETIC}: lead {WON.email} → deal {won['deal_id']} ({won['stage']}) → invoice "
        f"{invoice['invoice_number']} ({invoice['status']}, USD {Decimal(str(invoice['amount_usd'])):,.2f}, "
        f"due {invoice['due_date']}); PDF: {path}"
    )
    return path
