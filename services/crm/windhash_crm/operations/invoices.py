"""Invoices: created for a won deal with the year's next gapless number, changed while drafts, sent (the PDF
rendered and kept), paid, cancelled; sent and paid are announced, every change audited."""

import asyncio
from typing import Any

import asyncpg
from windhash_common.events_crm import InvoiceEventType, InvoiceStatusEvent

from windhash_crm.domain import invoices as rules
from windhash_crm.invoice_pdf import InvoiceDocument, render_invoice
from windhash_crm.models.invoices import InvoiceCreate, InvoiceUpdate
from windhash_crm.operations.context import AuditedRecords, ChangeContext, CrmProblem, not_found, state_of
from windhash_crm.queries import deals as deal_queries
from windhash_crm.queries import invoices as queries
from windhash_crm.settings import CrmSettings

AUDITED = (
    "invoice_number",
    "deal_id",
    "client_id",
    "bill_to",
    "description",
    "amount_usd",
    "status",
    "issue_date",
    "due_date",
    "paid_date",
)
INVOICES = AuditedRecords("invoice", queries.find_invoice, AUDITED)


def _refused(error: rules.InvoiceRuleBroken) -> CrmProblem:
    return CrmProblem(409, "conflict", str(error))


async def create_invoice(
    connection: asyncpg.Connection, ctx: ChangeContext, body: InvoiceCreate
) -> asyncpg.Record:
    deal = await deal_queries.find_deal(connection, body.deal_id)
    if deal is None:
        raise not_found("deal", body.deal_id)
    if deal["stage"] != "closed_won":
        raise CrmProblem(409, "conflict", f"invoices are for won deals; this deal is {deal['stage']}")
    issue = rules.business_date(ctx.now, ctx.settings.crm_time_zone)
    terms = (
        ctx.settings.crm_payment_terms_days if body.payment_terms_days is None else body.payment_terms_days
    )
    # The year's next number, its counter row locked until this transaction ends (gapless: see domain).
    sequence = await queries.next_number(connection, issue.year)
    values = {
        "invoice_year": issue.year,
        "invoice_seq": sequence,
        "invoice_number": rules.invoice_number(issue.year, sequence),
        "deal_id": deal["deal_id"],
        "owner_id": deal["owner_id"],
        "client_id": deal["client_id"],
        "bill_to": body.bill_to or deal["client_name"] or deal["lead_company"] or deal["lead_name"],
        "description": body.description,
        "amount_usd": body.amount_usd,
        "issue_date": issue,
        "due_date": rules.due_date(issue, terms),
    }
    invoice_id = await queries.insert_invoice(connection, values)
    created = await queries.find_invoice(connection, invoice_id)
    assert created is not None
    await ctx.audit(connection, "crm.invoice.create", "invoice", invoice_id, None, state_of(created, AUDITED))
    return created


async def update_invoice(
    connection: asyncpg.Connection, ctx: ChangeContext, invoice_id: int, body: InvoiceUpdate
) -> asyncpg.Record:
    before = await INVOICES.locked(connection, invoice_id)
    try:
        rules.may_edit(before["status"])
    except rules.InvoiceRuleBroken as error:
        raise _refused(error) from None
    changes = {key: value for key, value in body.model_dump(exclude_unset=True).items() if value is not None}
    values = {key: before[key] for key in ("bill_to", "description", "amount_usd", "due_date")} | changes
    if values["due_date"] < before["issue_date"]:
        raise CrmProblem(
            422, "invalid_parameter", f"the due date is before the issue date {before['issue_date']}"
        )
    await queries.update_draft(
        connection,
        invoice_id,
        values["bill_to"],
        values["description"],
        values["amount_usd"],
        values["due_date"],
    )
    return await INVOICES.audited(connection, ctx, "crm.invoice.update", invoice_id, before)


async def send_invoice(connection: asyncpg.Connection, ctx: ChangeContext, invoice_id: int) -> asyncpg.Record:
    before = await INVOICES.locked(connection, invoice_id)
    try:
        rules.send(before["status"])
    except rules.InvoiceRuleBroken as error:
        raise _refused(error) from None
    pdf = await render(connection, ctx.settings, before, "sent")
    await queries.mark_sent(connection, invoice_id, pdf)
    after = await INVOICES.audited(connection, ctx, "crm.invoice.send", invoice_id, before)
    await _announce(connection, ctx, after, "crm.invoice.sent")
    return after


async def pay_invoice(
    connection: asyncpg.Connection, ctx: ChangeContext, invoice_id: int, paid_date: Any
) -> asyncpg.Record:
    before = await INVOICES.locked(connection, invoice_id)
    today = rules.business_date(ctx.now, ctx.settings.crm_time_zone)
    paid = paid_date or today
    try:
        rules.pay(before["status"], paid, before["issue_date"], today)
    except rules.InvoiceRuleBroken as error:
        raise _refused(error) from None
    await queries.mark_paid(connection, invoice_id, paid)
    after = await INVOICES.audited(connection, ctx, "crm.invoice.pay", invoice_id, before)
    await _announce(connection, ctx, after, "crm.invoice.paid")
    return after


async def cancel_invoice(
    connection: asyncpg.Connection, ctx: ChangeContext, invoice_id: int
) -> asyncpg.Record:
    before = await INVOICES.locked(connection, invoice_id)
    try:
        rules.cancel(before["status"])
    except rules.InvoiceRuleBroken as error:
        raise _refused(error) from None
    await queries.mark_cancelled(connection, invoice_id)
    return await INVOICES.audited(connection, ctx, "crm.invoice.cancel", invoice_id, before)


async def invoice_pdf(
    connection: asyncpg.Connection, settings: CrmSettings, invoice_id: int
) -> tuple[str, bytes]:
    """The invoice's PDF: as sent, or (a draft, a cancelled draft) rendered now and marked so."""
    invoice = await queries.find_invoice(connection, invoice_id)
    if invoice is None:
        raise not_found("invoice", invoice_id)
    stored = await queries.stored_pdf(connection, invoice_id)
    pdf = stored if stored is not None else await render(connection, settings, invoice, invoice["status"])
    return f"{invoice['invoice_number']}.pdf", pdf


async def render(
    connection: asyncpg.Connection, settings: CrmSettings, invoice: asyncpg.Record, status: str
) -> bytes:
    deal = await deal_queries.find_deal(connection, invoice["deal_id"])
    document = InvoiceDocument(
        number=invoice["invoice_number"],
        status=status,
        issue_date=invoice["issue_date"],
        due_date=invoice["due_date"],
        bill_to=invoice["bill_to"],
        description=invoice["description"],
        amount_usd=invoice["amount_usd"],
        deal_title=deal["title"] if deal is not None else f"deal {invoice['deal_id']}",
        issuer=settings.crm_invoice_issuer,
        issuer_address=settings.crm_invoice_issuer_address,
        payment_details=settings.crm_invoice_payment_details,
    )
    return await asyncio.to_thread(render_invoice, document)  # CPU work off the event loop


async def _announce(
    connection: asyncpg.Connection, ctx: ChangeContext, invoice: asyncpg.Record, kind: InvoiceEventType
) -> None:
    await ctx.publish(connection, status_event(invoice, kind, ctx.now, ctx.actor.name))


def status_event(invoice: Any, kind: InvoiceEventType, occurred_at: Any, actor: str) -> InvoiceStatusEvent:
    """The event of an invoice's new status (`invoice` a row of queries.invoices or of the overdue job)."""
    return InvoiceStatusEvent(
        event_type=kind,
        occurred_at=occurred_at,
        actor=actor,
        invoice_id=invoice["invoice_id"],
        invoice_number=invoice["invoice_number"],
        deal_id=invoice["deal_id"],
        client_id=invoice["client_id"],
        amount_usd=invoice["amount_usd"],
        due_date=invoice["due_date"],
        paid_date=invoice.get("paid_date"),
    )
