"""CRM events on the `windhash.crm.v1` topic (JSON, pydantic v2), versioned like events.py.

Each is written to the outbox in the transaction of the change it announces (services/crm), so it exists
exactly when the change does. One topic for the whole sale: every event of a deal (its lead's conversion,
its close, its invoices) is keyed `deal/<deal_id>` and so stays in order; a reminder is keyed by its
activity. Consumers tell them apart by `event_type` (`parse_crm_event`).
"""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


class _CrmEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    occurred_at: AwareDatetime
    actor: str = Field(min_length=1, max_length=200, description="As the audit trail names it.")


class LeadConvertedEvent(_CrmEvent):
    """A lead became a deal (the deal keeps the link to its lead)."""

    event_type: Literal["crm.lead.converted"] = "crm.lead.converted"
    lead_id: int = Field(ge=1)
    deal_id: int = Field(ge=1)
    owner_id: UUID
    company: str | None
    title: str
    value_usd: Money

    @property
    def kafka_key(self) -> bytes:
        return f"deal/{self.deal_id}".encode()


class DealClosedEvent(_CrmEvent):
    """A deal was won (`crm.deal.won`) or lost (`crm.deal.lost`)."""

    event_type: Literal["crm.deal.won", "crm.deal.lost"]
    deal_id: int = Field(ge=1)
    lead_id: int = Field(ge=1)
    owner_id: UUID
    title: str
    value_usd: Money
    lost_reason: str | None = None

    @property
    def kafka_key(self) -> bytes:
        return f"deal/{self.deal_id}".encode()


InvoiceEventType = Literal["crm.invoice.sent", "crm.invoice.paid", "crm.invoice.overdue"]


class InvoiceStatusEvent(_CrmEvent):
    """An invoice was sent, paid, or found overdue by the overdue job."""

    event_type: InvoiceEventType
    invoice_id: int = Field(ge=1)
    invoice_number: str
    deal_id: int = Field(ge=1)
    client_id: UUID | None = Field(description="The client organisation billed, once its account exists.")
    amount_usd: Money
    due_date: date
    paid_date: date | None = None

    @property
    def kafka_key(self) -> bytes:
        return f"deal/{self.deal_id}".encode()


class ActivityReminderEvent(_CrmEvent):
    """An open activity's reminder time came: its owner is to be reminded (once)."""

    event_type: Literal["crm.activity.reminder"] = "crm.activity.reminder"
    activity_id: int = Field(ge=1)
    lead_id: int | None
    deal_id: int | None
    kind: Literal["call", "email", "meeting", "note"]
    subject: str
    due_at: AwareDatetime | None
    owner_id: UUID
    owner_email: str

    @property
    def kafka_key(self) -> bytes:
        return f"activity/{self.activity_id}".encode()


CrmEvent = Annotated[
    LeadConvertedEvent | DealClosedEvent | InvoiceStatusEvent | ActivityReminderEvent,
    Field(discriminator="event_type"),
]
_CRM_EVENT: TypeAdapter[CrmEvent] = TypeAdapter(CrmEvent)


def parse_crm_event(payload: bytes | str) -> CrmEvent:
    """The event a message of the CRM topic carries (raises pydantic's ValidationError otherwise)."""
    return _CRM_EVENT.validate_json(payload)
