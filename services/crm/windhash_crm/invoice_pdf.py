"""An invoice as a PDF (A4), rendered with fpdf2 from the invoice's data alone: no I/O, the same bytes for the
same invoice (the creation date is the invoice's own, not the time of rendering).

Why fpdf2: a maintained, pure-Python library (no C toolchain, wheels for every platform) with a small API that
reads like the document (cells and a table), which embeds and subsets TrueType fonts, so a client's name in
any script DejaVu Sans covers prints as typed, with a ToUnicode map so the text can be searched and
extracted (the tests read it back with pypdf). reportlab would do too; its layout engine is more than an
invoice needs.

A draft carries "DRAFT — not a demand for payment", a cancelled one "CANCELLED — number kept in the
sequence"; a sent invoice's PDF is stored as sent (the document of record) and served as such afterwards.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from importlib import resources
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

FONT_DIR = Path(str(resources.files("windhash_crm") / "fonts"))
FONT = "DejaVu"
_MARKS = {
    "draft": "DRAFT — not a demand for payment",
    "cancelled": "CANCELLED — number kept in the sequence",
}


@dataclass(frozen=True)
class InvoiceDocument:
    number: str
    status: str
    issue_date: date
    due_date: date
    bill_to: str
    description: str
    amount_usd: Decimal
    deal_title: str
    issuer: str
    issuer_address: str
    payment_details: str


def usd(amount: Decimal) -> str:
    return f"USD {amount:,.2f}"


def render_invoice(document: InvoiceDocument) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime.combine(document.issue_date, time(), UTC))
    pdf.set_title(f"Invoice {document.number}")
    pdf.set_author(document.issuer)
    pdf.add_font(FONT, "", FONT_DIR / "DejaVuSans.ttf")
    pdf.add_font(FONT, "B", FONT_DIR / "DejaVuSans-Bold.ttf")
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    _head(pdf, document)
    _parties(pdf, document)
    _lines(pdf, document)
    _payment(pdf, document)
    return bytes(pdf.output())


def _line(pdf: FPDF, text: str, size: float = 10, style: str = "", height: float = 5.5) -> None:
    pdf.set_font(FONT, style, size)
    pdf.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")


def _head(pdf: FPDF, document: InvoiceDocument) -> None:
    _line(pdf, document.issuer, 14, "B", 7)
    _line(pdf, document.issuer_address, 9)
    pdf.ln(6)
    _line(pdf, f"INVOICE {document.number}", 18, "B", 9)
    if document.status in _MARKS:
        pdf.set_text_color(180, 30, 30)
        _line(pdf, _MARKS[document.status], 11, "B")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(2)
    _line(pdf, f"Issue date: {document.issue_date.isoformat()}")
    _line(pdf, f"Due date: {document.due_date.isoformat()}")
    pdf.ln(4)


def _parties(pdf: FPDF, document: InvoiceDocument) -> None:
    _line(pdf, "Bill to", 10, "B")
    _line(pdf, document.bill_to)
    _line(pdf, f"For: {document.deal_title}", 9)
    pdf.ln(4)


def _lines(pdf: FPDF, document: InvoiceDocument) -> None:
    pdf.set_font(FONT, "", 10)
    with pdf.table(col_widths=(130, 44), text_align=("LEFT", "RIGHT"), line_height=7) as table:
        header = table.row()
        header.cell("Description")
        header.cell("Amount")
        row = table.row()
        row.cell(document.description)
        row.cell(usd(document.amount_usd))
        total = table.row()
        total.cell("Total due")
        total.cell(usd(document.amount_usd))
    pdf.ln(6)


def _payment(pdf: FPDF, document: InvoiceDocument) -> None:
    _line(pdf, "Payment", 10, "B")
    _line(pdf, f"{document.payment_details} Reference: {document.number}.", 9)
    _line(pdf, f"Payable by {document.due_date.isoformat()}.", 9)
