"""Invoices: their numbers, dates and the life of their status.

Numbers: `WH-<year>-<sequence>`, the sequence from 1 each calendar year with no gap and no repeat, taken in
the creating transaction from the year's counter row (migration 1400, `crm_invoice_counters`): the row stays
locked until that transaction ends, so concurrent creators queue on it, and a creation that fails rolls its
number back for the next one. The year is the year of the issue date, which is the day the invoice is
created, in the business's time zone (`WINDHASH_CRM_TIME_ZONE`, Europe/London): numbers follow the dates.
A number is never deleted or reused: an invoice created by mistake is cancelled while still a draft and keeps
its number (status `cancelled`, its PDF marked so), which is what an auditor expects to find in the sequence.

Status: draft → sent (its PDF is rendered and kept as sent) → paid; a sent invoice whose due date has passed
becomes overdue (the overdue job, migration 1400's `crm_mark_overdue_invoices`: due date before today), and
an overdue one can still be paid. Only a draft can be changed or cancelled; a sent invoice is corrected by a
new one (credit notes are outside this CRM).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

InvoiceStatus = Literal["draft", "sent", "paid", "overdue", "cancelled"]
INVOICE_PREFIX = "WH"


class InvoiceRuleBroken(ValueError):
    """A change an invoice's status does not allow; the message says which rule."""


def invoice_number(year: int, sequence: int) -> str:
    if sequence < 1:
        raise ValueError("invoice sequences start at 1")
    return f"{INVOICE_PREFIX}-{year}-{sequence:05d}"


def business_date(now: datetime, time_zone: str) -> date:
    """The calendar day `now` falls on where the business invoices."""
    return now.astimezone(ZoneInfo(time_zone)).date()


def due_date(issue_date: date, payment_terms_days: int) -> date:
    if payment_terms_days < 0:
        raise InvoiceRuleBroken("payment terms are zero days or more")
    return issue_date + timedelta(days=payment_terms_days)


@dataclass(frozen=True)
class StatusChange:
    before: InvoiceStatus
    after: InvoiceStatus


def send(status: InvoiceStatus) -> StatusChange:
    if status != "draft":
        raise InvoiceRuleBroken(f"only a draft can be sent; this invoice is {status}")
    return StatusChange(status, "sent")


def pay(status: InvoiceStatus, paid_date: date, issue_date: date, today: date) -> StatusChange:
    if status not in ("sent", "overdue"):
        raise InvoiceRuleBroken(f"only a sent or overdue invoice can be paid; this invoice is {status}")
    if paid_date < issue_date:
        raise InvoiceRuleBroken(f"an invoice issued on {issue_date} cannot be paid before it, on {paid_date}")
    if paid_date > today:
        raise InvoiceRuleBroken(f"a payment on {paid_date} is in the future (today is {today})")
    return StatusChange(status, "paid")


def cancel(status: InvoiceStatus) -> StatusChange:
    if status != "draft":
        raise InvoiceRuleBroken(
            f"only a draft can be cancelled (it keeps its number); this invoice is {status}"
        )
    return StatusChange(status, "cancelled")


def may_edit(status: InvoiceStatus) -> None:
    if status != "draft":
        raise InvoiceRuleBroken(f"only a draft can be changed; this invoice is {status}")
