"""Invoices: created for a won deal with the year's next number, changed while drafts, sent (PDF kept),
paid, cancelled (number kept); listed and downloaded as PDF."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from windhash_crm.domain.invoices import InvoiceStatus
from windhash_crm.models.fields import long_text, text

Amount = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
Description = Annotated[str, long_text(2000)]
BillTo = Annotated[str, text(200)]


class InvoiceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deal_id: int = Field(ge=1)
    amount_usd: Amount
    description: Description = Field(min_length=1)
    bill_to: BillTo | None = Field(default=None, description="default: the client, or the lead's company")
    payment_terms_days: int | None = Field(
        default=None, ge=0, le=365, description="default: WINDHASH_CRM_PAYMENT_TERMS_DAYS"
    )


class InvoiceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_usd: Amount | None = None
    description: Description | None = Field(default=None, min_length=1)
    bill_to: BillTo | None = None
    due_date: date | None = None


class InvoicePayment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    paid_date: date | None = Field(default=None, description="default: today")


class InvoiceOut(BaseModel):
    invoice_id: int
    invoice_number: str = Field(description="WH-<year>-<sequence>: gapless per year")
    invoice_year: int
    invoice_seq: int
    deal_id: int
    owner_id: UUID
    owner_email: str | None
    client_id: UUID | None
    bill_to: str
    description: str
    amount_usd: Decimal
    status: InvoiceStatus
    issue_date: date
    due_date: date
    sent_at: datetime | None
    paid_date: date | None
    overdue_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime
    pdf_url: str = Field(description="the PDF: as sent, or rendered now for a draft or a cancelled one")
