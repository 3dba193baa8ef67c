"""Invoice numbers, business dates and the life of an invoice's status, as pure functions."""

from datetime import UTC, date, datetime

import pytest
from windhash_crm.domain.invoices import (
    InvoiceRuleBroken,
    business_date,
    cancel,
    due_date,
    invoice_number,
    may_edit,
    pay,
    send,
)


def test_numbers_carry_the_year_and_a_sequence_that_outgrows_its_padding() -> None:
    assert invoice_number(2026, 1) == "WH-2026-00001"
    assert invoice_number(2026, 123456) == "WH-2026-123456"
    with pytest.raises(ValueError):
        invoice_number(2026, 0)


def test_the_business_day_is_londons() -> None:
    assert business_date(datetime(2026, 12, 31, 23, 59, tzinfo=UTC), "Europe/London") == date(2026, 12, 31)
    assert business_date(datetime(2026, 6, 30, 23, 30, tzinfo=UTC), "Europe/London") == date(2026, 7, 1)
    assert due_date(date(2026, 1, 31), 30) == date(2026, 3, 2)


def test_a_draft_is_sent_changed_or_cancelled_and_nothing_else_is() -> None:
    assert send("draft").after == "sent"
    assert cancel("draft").after == "cancelled"
    may_edit("draft")
    for status in ("sent", "paid", "overdue", "cancelled"):
        with pytest.raises(InvoiceRuleBroken):
            send(status)
        with pytest.raises(InvoiceRuleBroken):
            cancel(status)
        with pytest.raises(InvoiceRuleBroken):
            may_edit(status)


def test_a_sent_or_overdue_invoice_is_paid_on_a_day_between_its_issue_and_today() -> None:
    issued, today = date(2026, 3, 1), date(2026, 3, 20)
    assert pay("sent", date(2026, 3, 1), issued, today).after == "paid"
    assert pay("overdue", today, issued, today).before == "overdue"
    with pytest.raises(InvoiceRuleBroken, match="before"):
        pay("sent", date(2026, 2, 28), issued, today)
    with pytest.raises(InvoiceRuleBroken, match="future"):
        pay("sent", date(2026, 3, 21), issued, today)
    with pytest.raises(InvoiceRuleBroken, match="draft"):
        pay("draft", today, issued, today)
