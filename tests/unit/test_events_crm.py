"""CRM events: one topic, told apart by event_type, keyed so a sale's events stay in order."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest
from pydantic import ValidationError
from windhash_common.events_crm import (
    ActivityReminderEvent,
    DealClosedEvent,
    InvoiceStatusEvent,
    LeadConvertedEvent,
    parse_crm_event,
)
from windhash_common.topics import Topics

NOW = datetime(2026, 3, 2, tzinfo=UTC)


def test_each_event_round_trips_and_a_sale_shares_one_key() -> None:
    owner = uuid4()
    events = [
        LeadConvertedEvent(
            occurred_at=NOW, actor="user:a@b.c", lead_id=1, deal_id=7, owner_id=owner, company=None,
            title="T", value_usd=Decimal("10.00"),
        ),
        DealClosedEvent(
            event_type="crm.deal.won", occurred_at=NOW, actor="user:a@b.c", deal_id=7, lead_id=1,
            owner_id=owner, title="T", value_usd=Decimal("10.00"),
        ),
        InvoiceStatusEvent(
            event_type="crm.invoice.paid", occurred_at=NOW, actor="user:a@b.c", invoice_id=3,
            invoice_number="WH-2026-00003", deal_id=7, client_id=None, amount_usd=Decimal("10.00"),
            due_date=date(2026, 4, 1), paid_date=date(2026, 3, 5),
        ),
    ]  # fmt: skip
    for event in events:
        assert parse_crm_event(event.model_dump_json()) == event
        assert event.kafka_key == b"deal/7"
    reminder = ActivityReminderEvent(
        occurred_at=NOW, actor="system:crm/activity-reminders", activity_id=9, lead_id=1, deal_id=None,
        kind="call", subject="Call", due_at=NOW, owner_id=owner, owner_email="a@b.c",
    )  # fmt: skip
    assert parse_crm_event(reminder.model_dump_json().encode()) == reminder
    assert reminder.kafka_key == b"activity/9"
    assert Topics("windhash").crm == "windhash.crm.v1" and Topics().crm in Topics().all()


def test_an_unknown_event_type_or_a_negative_amount_is_refused() -> None:
    with pytest.raises(ValidationError):
        parse_crm_event('{"event_type": "crm.lead.created", "occurred_at": "2026-03-02T00:00:00Z"}')
    with pytest.raises(ValidationError):
        InvoiceStatusEvent(
            event_type="crm.invoice.sent", occurred_at=NOW, actor="x", invoice_id=1,
            invoice_number="WH-2026-00001", deal_id=1, client_id=None, amount_usd=Decimal("-1"),
            due_date=date(2026, 4, 1),
        )  # fmt: skip
