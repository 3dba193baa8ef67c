"""The invoice PDF read back as text (pypdf): what a client must find on it, in any script DejaVu covers,
the marks of drafts and cancelled drafts, and the same bytes for the same invoice."""

import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader
from windhash_crm.invoice_pdf import InvoiceDocument, render_invoice

DOCUMENT = InvoiceDocument(
    number="WH-2026-00042",
    status="sent",
    issue_date=date(2026, 3, 2),
    due_date=date(2026, 4, 1),
    bill_to="Zoë Ørsted Hosting — Łódź",
    description="Hosting of 40 S21 at the Aberdeen site, March 2026",
    amount_usd=Decimal("1234567.8"),
    deal_title="Aberdeen expansion",
    issuer="windhash Hosting (synthetic)",
    issuer_address="1 Turbine Row, Aberdeen",
    payment_details="Pay by bank transfer.",
)


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_says_who_owes_what_to_whom_by_when() -> None:
    pdf = render_invoice(DOCUMENT)
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    for expected in (
        "windhash Hosting (synthetic)",
        "INVOICE WH-2026-00042",
        "Issue date: 2026-03-02",
        "Due date: 2026-04-01",
        "Zoë Ørsted Hosting — Łódź",
        "Hosting of 40 S21 at the Aberdeen site, March 2026",
        "USD 1,234,567.80",
        "Reference: WH-2026-00042",
        "For: Aberdeen expansion",
    ):
        assert expected in text, expected
    assert "DRAFT" not in text and "CANCELLED" not in text
    assert PdfReader(io.BytesIO(pdf)).metadata.title == "Invoice WH-2026-00042"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("status", "mark"),
    [("draft", "DRAFT — not a demand for payment"), ("cancelled", "CANCELLED — number kept in the sequence")],
)
def test_drafts_and_cancelled_drafts_say_so(status: str, mark: str) -> None:
    assert mark in text_of(render_invoice(DOCUMENT.__class__(**{**DOCUMENT.__dict__, "status": status})))


def test_the_same_invoice_renders_the_same_bytes() -> None:
    assert render_invoice(DOCUMENT) == render_invoice(DOCUMENT)
